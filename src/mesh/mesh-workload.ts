import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { workloadModelFor } from './workload-model';
import { GatewayModel, InterceptionMode, ISourceIpTarget, ProxyRole, WorkloadModel } from '../model/model';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { checkDnsLabel, checkLabels } from '../util/validate';

/** What `MeshWorkload.fromLabels` needs to know about a meshed workload deployed elsewhere. */
export interface MeshWorkloadAttributes {
  /** Pod labels that select the workload, e.g. { app: "httpbin" }. */
  readonly labels: { [key: string]: string };
  /**
   * Namespace of the pods.
   *
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * The interception mode its pods run with (what their `sidecar.istio.io/interceptionMode` says).
   *
   * @default InterceptionMode.REDIRECT (Istio's default)
   */
  readonly interceptionMode?: InterceptionMode;
  /**
   * Workload name, for messages and `explain`.
   *
   * @default - the `app` label, else the construct id
   */
  readonly name?: string;
}

/**
 * A meshed (sidecar) workload that this app does not create, known by its pod labels, so policies and
 * `XffSidecarFilter`s can target it. It emits nothing itself.
 */
export class MeshWorkload extends Construct implements ISourceIpTarget {
  /**
   * Refers to meshed pods by labels.
   *
   * @param scope where the reference lives (its policies are created under it)
   * @param id construct id
   * @param attributes labels, namespace and interception mode of the pods
   */
  public static fromLabels(scope: Construct, id: string, attributes: MeshWorkloadAttributes): MeshWorkload {
    return new MeshWorkload(scope, id, attributes);
  }

  /** Namespace of the pods. */
  public readonly targetNamespace: string;
  /** Pod labels that select the workload. */
  public readonly targetSelector: { [key: string]: string };
  /** Always `ProxyRole.SIDECAR`. */
  public readonly targetRole: ProxyRole = ProxyRole.SIDECAR;
  /** The interception mode of the pods. */
  public readonly interceptionMode: InterceptionMode;
  /** Workload name. */
  public readonly name: string;

  private constructor(scope: Construct, id: string, attributes: MeshWorkloadAttributes) {
    super(scope, id);
    if (!attributes) throw new Error('attributes are required: give at least labels, such as { labels: { app: "httpbin" } }');
    this.targetSelector = checkLabels('labels', attributes.labels);
    this.targetNamespace = checkDnsLabel('namespace', attributes.namespace ?? Chart.of(this).namespace ?? 'default');
    const mode = attributes.interceptionMode ?? InterceptionMode.REDIRECT;
    if (!Object.values(InterceptionMode).includes(mode)) {
      throw new Error(`interceptionMode ${JSON.stringify(mode)} is not allowed: use InterceptionMode.REDIRECT, TPROXY or NONE (exact and case-sensitive)`);
    }
    this.interceptionMode = mode;
    this.name = attributes.name ?? this.targetSelector.app ?? id;
  }

  /** Allows only clients from `cidrs` to this workload (an ALLOW AuthorizationPolicy on its sidecar). */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies clients from `cidrs` at this workload (a DENY AuthorizationPolicy on its sidecar). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /** Workloads are not gateways. */
  public gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /** The workload model, with the XFF settings of the XffSidecarFilter that reaches these pods (read now). */
  public workloadModel(): WorkloadModel | undefined {
    return workloadModelFor(this, {
      name: this.name,
      namespace: this.targetNamespace,
      selector: this.targetSelector,
      podLabels: this.targetSelector,
      interceptionMode: this.interceptionMode,
    });
  }
}
