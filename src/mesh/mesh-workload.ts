import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { checkInterceptionMode, SidecarWorkloadBase } from './sidecar-workload-base';
import { InterceptionMode } from '../model/model';
import { Topology } from '../model/topology';
import { joinTrace } from '../trace/topology-trace';
import { checkDnsLabel, checkLabels, withConstructPath } from '../util/validate';

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
export class MeshWorkload extends SidecarWorkloadBase {
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
  /** The interception mode of the pods. */
  public readonly interceptionMode: InterceptionMode;
  /** Workload name. */
  public readonly name: string;

  private constructor(scope: Construct, id: string, attributes: MeshWorkloadAttributes) {
    super(scope, id);
    try {
      if (!attributes) throw new Error('attributes are required: give at least labels, such as { labels: { app: "httpbin" } }');
      this.targetSelector = checkLabels('labels', attributes.labels);
      this.targetNamespace = checkDnsLabel('namespace', attributes.namespace ?? Chart.of(this).namespace ?? 'default');
      this.interceptionMode = checkInterceptionMode(attributes.interceptionMode ?? InterceptionMode.REDIRECT);
      this.name = attributes.name ?? this.targetSelector.app ?? id;
      Topology.of(this).addWorkload(this);
      joinTrace(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  protected workloadName(): string {
    return this.name;
  }

  protected workloadPodLabels(): { [key: string]: string } {
    return this.targetSelector;
  }
}
