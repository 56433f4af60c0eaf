import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { Waypoint } from './waypoint';
import {
  AMBIENT_MODE, DATAPLANE_MODE_LABEL, INGRESS_USE_WAYPOINT_LABEL, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL,
} from '../model/ambient';
import { IstioVersion } from '../model/istio-version';
import { Topology } from '../model/topology';
import { checkDnsLabel, checkLabels, withConstructPath } from '../util/validate';

const AMBIENT_LABELS = [DATAPLANE_MODE_LABEL, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL, INGRESS_USE_WAYPOINT_LABEL];

/** Properties of `AmbientNamespace`. */
export interface AmbientNamespaceProps {
  /** Name of the namespace. */
  readonly name: string;

  /**
   * The waypoint all Services of the namespace send their traffic through (`istio.io/use-waypoint`).
   *
   * @default - no waypoint: ztunnel alone (L4 policies only)
   */
  readonly waypoint?: Waypoint;

  /**
   * Send traffic from ingress gateways through the waypoint too (`istio.io/ingress-use-waypoint: "true"`). Without
   * it only mesh traffic passes the waypoint and its policies never see ingress requests.
   *
   * @default false
   */
  readonly ingressUseWaypoint?: boolean;

  /**
   * The Istio release the output is for: `ingressUseWaypoint` on a Namespace needs 1.25+.
   *
   * @default - `IstioVersion.resolve(this)`
   */
  readonly istioVersion?: IstioVersion;

  /**
   * More labels for the Namespace (e.g. Pod Security levels). Keys the ambient labels use are not allowed here.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/**
 * A Namespace in Istio's ambient mode (`istio.io/dataplane-mode: ambient`): ztunnel intercepts its pods, keeps each
 * caller's real address as the source the app sees, and enforces only L4 policy fields (`ipBlocks`, ports). With a
 * `waypoint`, its Services' traffic goes through that waypoint instead, and the app sees the waypoint's address.
 */
export class AmbientNamespace extends Construct {
  /** The Namespace. */
  public readonly apiObject: ApiObject;
  /** Name of the namespace. */
  public readonly namespaceName: string;
  /** The waypoint (`namespace/name`) the namespace's Services use. @default - none */
  public readonly waypoint?: string;
  /** True when ingress traffic goes through the waypoint too. */
  public readonly ingressUseWaypoint: boolean;

  public constructor(scope: Construct, id: string, props: AmbientNamespaceProps) {
    super(scope, id);
    try {
      if (!props) throw new Error('props are required: give at least the name, such as { name: "web" }');
      this.namespaceName = checkDnsLabel('name', props.name);
      this.ingressUseWaypoint = props.ingressUseWaypoint ?? false;
      const istioVersion = IstioVersion.resolve(this, props.istioVersion);
      if (this.ingressUseWaypoint && !istioVersion.readsNamespaceIngressUseWaypoint) {
        // Refused, not a warning: the label would be ignored, and ingress traffic would skip the waypoint's policies.
        throw new Error(`ingressUseWaypoint true is not allowed with istioVersion ${istioVersion.label}: Istio reads istio.io/ingress-use-waypoint on a Namespace only from 1.25 (on 1.24 only on a Service), so ingress traffic would skip the waypoint and its policies; `
          + 'target Istio 1.25 or newer (istioVersion: IstioVersion.V1_25), or remove ingressUseWaypoint and label the Services istio.io/ingress-use-waypoint: "true" yourself (AmbientWorkload.fromLabels with waypoint and ingressUseWaypoint says so to this app)');
      }
      const extra = checkLabels('labels', props.labels ?? {}, true);
      const reserved = Object.keys(extra).filter(k => AMBIENT_LABELS.includes(k));
      if (reserved.length > 0) {
        throw new Error(`labels key ${JSON.stringify(reserved[0])} is not allowed: the construct sets the ambient labels itself; remove it and use the waypoint and ingressUseWaypoint props`);
      }
      const labels = Object.assign({}, extra, waypointLabels(this.namespaceName, props.waypoint, this.ingressUseWaypoint));
      this.waypoint = props.waypoint ? `${props.waypoint.targetNamespace}/${props.waypoint.name}` : undefined;
      this.apiObject = new ApiObject(this, 'Resource', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: this.namespaceName, labels: Object.assign({}, labels, { [DATAPLANE_MODE_LABEL]: AMBIENT_MODE }) },
      });
      Topology.of(this).addAmbientNamespace(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }
}

/**
 * The labels that enrol a namespace or Service in a waypoint; ingressUseWaypoint without a waypoint is an error,
 * because the label then changes nothing.
 */
export function waypointLabels(namespace: string, waypoint: Waypoint | undefined, ingressUseWaypoint: boolean): { [key: string]: string } {
  if (!waypoint) {
    if (ingressUseWaypoint) {
      throw new Error('ingressUseWaypoint true is not allowed without a waypoint: the label only sends ingress traffic through a waypoint that is in use; pass waypoint, or remove ingressUseWaypoint');
    }
    return {};
  }
  return {
    [USE_WAYPOINT_LABEL]: waypoint.name,
    ...(waypoint.targetNamespace !== namespace ? { [USE_WAYPOINT_NAMESPACE_LABEL]: waypoint.targetNamespace } : {}),
    ...(ingressUseWaypoint ? { [INGRESS_USE_WAYPOINT_LABEL]: 'true' } : {}),
  };
}
