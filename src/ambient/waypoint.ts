import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { WaypointServiceTarget } from './waypoint-service-target';
import { Gateway as KubeGateway } from '../../imports/gateway.networking.k8s.io';
import {
  WAYPOINT_FOR_LABEL, WAYPOINT_GATEWAY_CLASS, WAYPOINT_HBONE_PORT, WAYPOINT_HBONE_PROTOCOL, waypointTargetRef, workloadsUsing,
} from '../model/ambient';
import { GATEWAY_NAME_LABEL } from '../model/gateway-api';
import { GatewayModel, ISourceIpTarget, PolicyTargetRef, ProxyRole, WaypointFor, WaypointModel, WorkloadModel } from '../model/model';
import { Topology } from '../model/topology';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** Properties of `Waypoint`. */
export interface WaypointProps {
  /**
   * `metadata.name` of the waypoint Gateway: the value workloads name in `istio.io/use-waypoint`.
   *
   * @default "waypoint" (the name `istioctl waypoint apply` uses)
   */
  readonly name?: string;

  /**
   * Namespace of the waypoint.
   *
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;

  /**
   * Which traffic the waypoint handles (`istio.io/waypoint-for`).
   *
   * @default WaypointFor.SERVICE
   */
  readonly waypointFor?: WaypointFor;
}

/**
 * An Istio ambient waypoint: a Gateway API `Gateway` of class `istio-waypoint` with the HBONE listener on port
 * 15008, from which istiod deploys the waypoint's Envoy. Ambient workloads send their traffic through it when an
 * `AmbientNamespace` or `AmbientWorkload` names it (`istio.io/use-waypoint`).
 *
 * What the client address becomes there: the waypoint sees the caller as `source.ip` (ztunnel restores it), takes
 * `remote.ip` from the rightmost X-Forwarded-For entry (it does not trust or append XFF), and the app behind it sees
 * the waypoint's pod address. `allowFrom` and `denyFrom` attach AuthorizationPolicies to it with `targetRefs`.
 */
export class Waypoint extends Construct implements ISourceIpTarget {
  /** The Gateway (apiVersion gateway.networking.k8s.io/v1). */
  public readonly apiObject: ApiObject;
  /** `metadata.name` of the Gateway. */
  public readonly name: string;
  /** Namespace of the Gateway and its pods. */
  public readonly targetNamespace: string;
  /** Which traffic the waypoint handles. */
  public readonly waypointFor: WaypointFor;
  /** Always `ProxyRole.WAYPOINT`. */
  public readonly targetRole: ProxyRole = ProxyRole.WAYPOINT;

  public constructor(scope: Construct, id: string, props: WaypointProps = {}) {
    super(scope, id);
    try {
      this.name = checkDnsLabel('name', props.name ?? 'waypoint');
      this.targetNamespace = checkDnsLabel('namespace', props.namespace ?? Chart.of(this).namespace ?? 'default');
      this.waypointFor = props.waypointFor ?? WaypointFor.SERVICE;
      if (!Object.values(WaypointFor).includes(this.waypointFor)) {
        throw new Error(`waypointFor ${JSON.stringify(this.waypointFor)} is not allowed: use WaypointFor.SERVICE, WORKLOAD, ALL or NONE`);
      }
      this.apiObject = LibraryManifest.render(this, 'Resource', KubeGateway, {
        metadata: { name: this.name, namespace: this.targetNamespace, labels: { [WAYPOINT_FOR_LABEL]: this.waypointFor } },
        spec: {
          gatewayClassName: WAYPOINT_GATEWAY_CLASS,
          listeners: [{ name: 'mesh', port: WAYPOINT_HBONE_PORT, protocol: WAYPOINT_HBONE_PROTOCOL }],
        },
      });
      Topology.of(this).addWaypoint(this);
      Topology.of(this).addValidation(this, () => this.checkUse());
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** The label istiod puts on the waypoint's pods (policies attach with `targetRefs`, not with it). */
  public get targetSelector(): { [key: string]: string } {
    return { [GATEWAY_NAME_LABEL]: this.name };
  }

  /** Policies on a waypoint attach to its Gateway (always set). */
  public get policyTargetRefs(): PolicyTargetRef[] | undefined {
    return [waypointTargetRef(this._waypointModel())];
  }

  /**
   * Allows only clients from `cidrs` through this waypoint (an ALLOW AuthorizationPolicy with `targetRefs`). The field
   * defaults to `remoteIpBlocks`: the rightmost X-Forwarded-For entry, which is the client that the ingress gateway
   * appended, or the caller itself when there is no header.
   */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies clients from `cidrs` at this waypoint (a DENY AuthorizationPolicy with `targetRefs`). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /**
   * The traffic of one Service through this waypoint, as a policy target (`targetRefs` of kind Service): its
   * `allowFrom`/`denyFrom` apply at the waypoint to requests for that Service only.
   *
   * @param serviceName name of a Service in the waypoint's namespace whose traffic uses this waypoint
   */
  public forService(serviceName: string): WaypointServiceTarget {
    const id = `Service-${serviceName}`;
    const existing = this.node.tryFindChild(id);
    return existing instanceof WaypointServiceTarget ? existing : new WaypointServiceTarget(this, id, serviceName);
  }

  /** Waypoints are not ingress gateways. @internal */
  public _gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /** Waypoints are not workloads. @internal */
  public _workloadModel(): WorkloadModel | undefined {
    return undefined;
  }

  /** The waypoint as the shared model. @internal */
  public _waypointModel(): WaypointModel {
    return { name: this.name, namespace: this.targetNamespace, waypointFor: this.waypointFor };
  }

  private checkUse(): string[] {
    const topology = Topology.of(this);
    const users = workloadsUsing(this._waypointModel(), topology.model().workloads);
    const policies = topology.policies.filter(p => p.target === this || p.target.node.scope === this);
    const where = `waypoint "${this.targetNamespace}/${this.name}"`;
    if (policies.length > 0 && this.waypointFor === WaypointFor.NONE) {
      return [`${where} has waypointFor none, so it handles no traffic and its ${policies.length} policies never apply: set waypointFor to WaypointFor.SERVICE (or WORKLOAD, ALL), or attach the policies elsewhere`];
    }
    // An AmbientNamespace that names the waypoint enrols its Services even when the app models none of its workloads.
    const namedByNamespace = topology.ambientNamespaces.some(n => n.waypoint === `${this.targetNamespace}/${this.name}`);
    if (policies.length > 0 && users.length === 0 && !namedByNamespace && topology.ambientNamespaces.length + topology.workloads.length > 0) {
      SourceIpWarnings.add(this, `${where} is named by no AmbientNamespace or AmbientWorkload of this app, so its policies apply only if something outside the app labels a namespace or Service with istio.io/use-waypoint: ${this.name}; pass the waypoint as waypoint to the AmbientNamespace or AmbientWorkload`);
    }
    return [];
  }
}
