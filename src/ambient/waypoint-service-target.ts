import { Construct } from 'constructs';
import type { Waypoint } from './waypoint';
import { GatewayModel, ISourceIpTarget, PolicyTargetRef, ProxyRole, WorkloadModel } from '../model/model';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { checkDnsLabel, withConstructPath } from '../util/validate';

/**
 * One Service's traffic through a waypoint, as a policy target: policies on it attach with `targetRefs` of kind
 * Service (the form istio.io's ambient guides use), so the waypoint enforces them only for requests to that Service.
 * Create it with `Waypoint.forService()`. It renders nothing itself.
 */
export class WaypointServiceTarget extends Construct implements ISourceIpTarget {
  /** The waypoint that enforces the policies. */
  public readonly waypoint: Waypoint;
  /** Name of the Service, in the waypoint's namespace. */
  public readonly serviceName: string;
  /** Always `ProxyRole.WAYPOINT`. */
  public readonly targetRole: ProxyRole = ProxyRole.WAYPOINT;

  /** @internal */
  public constructor(waypoint: Waypoint, id: string, serviceName: string) {
    super(waypoint, id);
    try {
      this.waypoint = waypoint;
      this.serviceName = checkDnsLabel('serviceName', serviceName);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** Namespace of the Service (the waypoint's: targetRefs name objects of the policy's namespace). */
  public get targetNamespace(): string {
    return this.waypoint.targetNamespace;
  }

  /** The waypoint's pods. */
  public get targetSelector(): { [key: string]: string } {
    return this.waypoint.targetSelector;
  }

  /** The Service, as a `targetRefs` entry (core group). */
  public get policyTargetRefs(): PolicyTargetRef[] | undefined {
    return [{ group: '', kind: 'Service', name: this.serviceName }];
  }

  /** Allows only clients from `cidrs` to the Service through the waypoint (targetRefs kind Service; `remoteIpBlocks` by default). */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies clients from `cidrs` to the Service at the waypoint (targetRefs kind Service). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /** Not an ingress gateway. @internal */
  public _gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /** Not a workload. @internal */
  public _workloadModel(): WorkloadModel | undefined {
    return undefined;
  }
}
