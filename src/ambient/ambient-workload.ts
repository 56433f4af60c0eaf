import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Waypoint } from './waypoint';
import {
  GatewayModel, InterceptionMode, ISourceIpTarget, ProxyRole, SidecarXffMode, WorkloadModel,
} from '../model/model';
import { AmbientNamespaceMember, Topology } from '../model/topology';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { joinTrace } from '../trace/topology-trace';
import { checkDnsLabel, checkLabels, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** What `AmbientWorkload.fromLabels` needs to know about pods in ambient mode. */
export interface AmbientWorkloadAttributes {
  /** Pod labels that select the workload, e.g. { app: "httpbin" }. */
  readonly labels: { [key: string]: string };

  /**
   * Namespace of the pods (an ambient namespace, or pods labelled `istio.io/dataplane-mode: ambient`).
   *
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;

  /**
   * Workload name, for messages and `explain` (the name of its Deployment).
   *
   * @default - the `app` label, else the construct id
   */
  readonly name?: string;

  /**
   * The waypoint its traffic goes through, as its Service's or pods' `istio.io/use-waypoint` label says (this
   * reference renders nothing: label the Service yourself).
   *
   * @default - the waypoint of the workload's AmbientNamespace in this app, else none
   */
  readonly waypoint?: Waypoint;

  /**
   * Whether ingress traffic goes through the waypoint too, as the Service's `istio.io/ingress-use-waypoint` says.
   *
   * @default - what the workload's AmbientNamespace says, else false
   */
  readonly ingressUseWaypoint?: boolean;
}

/**
 * Pods in Istio's ambient mode, known by their labels, so that policies can target them. It renders nothing:
 * put the namespace in ambient mode with `AmbientNamespace` (or label the pods), and run the pods as usual.
 *
 * ztunnel enforces only L4 fields: `allowFrom`/`denyFrom` here use `ipBlocks`, and `remoteIpBlocks`, paths or
 * methods are refused (attach them to a `Waypoint` instead). The app sees its caller's real address: the client pod,
 * the ingress gateway pod, or, with a waypoint, the waypoint pod.
 */
export class AmbientWorkload extends Construct implements ISourceIpTarget {
  /**
   * Refers to ambient pods by labels.
   *
   * @param scope where the reference lives (its policies are created under it)
   * @param id construct id
   * @param attributes labels, namespace and waypoint of the pods
   */
  public static fromLabels(scope: Construct, id: string, attributes: AmbientWorkloadAttributes): AmbientWorkload {
    return new AmbientWorkload(scope, id, attributes);
  }

  /** Namespace of the pods. */
  public readonly targetNamespace: string;
  /** Pod labels that select the workload. */
  public readonly targetSelector: { [key: string]: string };
  /** Always `ProxyRole.AMBIENT`. */
  public readonly targetRole: ProxyRole = ProxyRole.AMBIENT;
  /** Ambient pods have no sidecar; the model records Istio's default. */
  public readonly interceptionMode: InterceptionMode = InterceptionMode.REDIRECT;
  /** Workload name. */
  public readonly name: string;
  private readonly ownWaypoint?: Waypoint;
  private readonly ownIngressUseWaypoint?: boolean;

  private constructor(scope: Construct, id: string, attributes: AmbientWorkloadAttributes) {
    super(scope, id);
    try {
      if (!attributes) throw new Error('attributes are required: give at least labels, such as { labels: { app: "httpbin" } }');
      this.targetSelector = checkLabels('labels', attributes.labels);
      this.targetNamespace = checkDnsLabel('namespace', attributes.namespace ?? Chart.of(this).namespace ?? 'default');
      this.name = attributes.name ?? this.targetSelector.app ?? id;
      this.ownWaypoint = attributes.waypoint;
      this.ownIngressUseWaypoint = attributes.ingressUseWaypoint;
      if (attributes.ingressUseWaypoint === true && !attributes.waypoint) {
        throw new Error('ingressUseWaypoint true is not allowed without a waypoint: the label only sends ingress traffic through a waypoint that is in use; pass waypoint, or remove ingressUseWaypoint');
      }
      Topology.of(this).addWorkload(this);
      joinTrace(this);
      Topology.of(this).addValidation(this, () => this.warnAboutAppView());
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** Allows only callers from `cidrs` (an ALLOW AuthorizationPolicy enforced by ztunnel, on `ipBlocks`). */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies callers from `cidrs` (a DENY AuthorizationPolicy enforced by ztunnel, on `ipBlocks`). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /** Workloads are not gateways. @internal */
  public _gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /** The workload model, with the waypoint of its own attributes or of its AmbientNamespace (read now). @internal */
  public _workloadModel(): WorkloadModel | undefined {
    const namespace = this.ambientNamespace();
    const waypoint = this.ownWaypoint ? `${this.ownWaypoint.targetNamespace}/${this.ownWaypoint.name}` : namespace?.waypoint;
    const ingress = this.ownWaypoint ? this.ownIngressUseWaypoint ?? namespace?.ingressUseWaypoint ?? false : namespace?.ingressUseWaypoint ?? false;
    return {
      name: this.name,
      namespace: this.targetNamespace,
      selector: { ...this.targetSelector },
      role: ProxyRole.AMBIENT,
      interceptionMode: this.interceptionMode,
      xffMode: SidecarXffMode.DEFAULT,
      ...(waypoint !== undefined ? { waypoint, ...(ingress ? { ingressUseWaypoint: true } : {}) } : {}),
    };
  }

  /** The AmbientNamespace of the pods' namespace, one in the same chart first (charts may be alternatives). */
  private ambientNamespace(): AmbientNamespaceMember | undefined {
    const candidates = Topology.of(this).ambientNamespaces.filter(n => n.namespaceName === this.targetNamespace);
    const chart = Chart.of(this);
    return candidates.find(n => Chart.of(n) === chart) ?? candidates[0];
  }

  /** Where the app will not see the client, say so once the app is complete. */
  private warnAboutAppView(): string[] {
    const model = this._workloadModel()!;
    const who = `ambient workload "${this.targetNamespace}/${this.name}"`;
    if (model.waypoint !== undefined) {
      SourceIpWarnings.add(this, `${who} uses waypoint "${model.waypoint}": the app's socket peer is the waypoint pod for every caller that passes it, and the waypoint adds no X-Forwarded-For entry; read the external client from the X-Forwarded-For the ingress gateway wrote, and match client addresses on the waypoint (Waypoint.allowFrom) or the gateway`);
      if (!model.ingressUseWaypoint) {
        SourceIpWarnings.add(this, `${who} uses waypoint "${model.waypoint}" without ingressUseWaypoint: traffic from ingress gateways skips the waypoint and its policies, and reaches the app with the gateway pod as peer; set ingressUseWaypoint if the waypoint must see ingress traffic`);
      }
    }
    return [];
  }
}
