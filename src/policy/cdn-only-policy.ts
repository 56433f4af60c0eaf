import { Construct } from 'constructs';
import { SourceIpPolicy } from './source-ip-policy';
import { ClientIpField, ISourceIpTarget, PolicyAction, ProxyRole } from '../model/model';
import { TrustChain } from '../model/trust-chain';
import { CidrList } from '../net/cidr-list';
import { trustChainOf } from '../trace/topology-trace';

/** A negated list cannot be split over several policies, so it must fit into one (see `CidrListPolicy`). */
const MAX_CDN_BLOCKS = 10000;

/** Properties of `CdnOnlyPolicy`. */
export interface CdnOnlyPolicyProps {
  /** The ingress gateway that must only be reached through the CDN. */
  readonly gateway: ISourceIpTarget;

  /**
   * The CDN's egress ranges, as the CDN publishes them (see docs/cdn.md for where each provider does).
   *
   * @default - the `cidrs` of the gateway's trust-chain hop that sets `clientHeader`
   */
  readonly cdnCidrs?: CidrList;

  /**
   * `metadata.name` of the AuthorizationPolicy.
   *
   * @default - generated from the construct path
   */
  readonly name?: string;
}

/**
 * A DENY AuthorizationPolicy on a gateway for every request whose peer at the gateway is not the CDN: without it,
 * a client that reaches the load balancer or the gateway directly can write any address into the CDN's client
 * header (or X-Forwarded-For). The field is the one the gateway's topology says sees the CDN: `ipBlocks` when the
 * CDN is the packet source (nothing that appends X-Forwarded-For between it and the gateway), else
 * `remoteIpBlocks` with `numTrustedProxies` counting the hops after the CDN (a `TrustHop` with `clientHeader` makes
 * the chain derive that count).
 */
export class CdnOnlyPolicy extends Construct {
  /** The DENY policy (`notIpBlocks` or `notRemoteIpBlocks` with the CDN ranges). */
  public readonly policy: SourceIpPolicy;

  /** The gateway the policy protects. */
  public readonly gateway: ISourceIpTarget;

  /** The CDN ranges the gateway accepts requests from. */
  public readonly cdnCidrs: CidrList;

  constructor(scope: Construct, id: string, props: CdnOnlyPolicyProps) {
    super(scope, id);
    if (!props || !props.gateway) throw new Error('gateway is required: pass the ingress gateway that must only be reached through the CDN');
    if (props.gateway.targetRole !== ProxyRole.GATEWAY) {
      throw new Error(`gateway "${props.gateway.node.path}" has targetRole ${props.gateway.targetRole}, not gateway: a CDN-only policy belongs on the ingress gateway the CDN connects to`);
    }
    this.gateway = props.gateway;
    const chain = trustChainOf(props.gateway);
    this.cdnCidrs = props.cdnCidrs ?? cdnCidrsOf(chain, props.gateway);
    if (this.cdnCidrs.count > MAX_CDN_BLOCKS) {
      throw new Error(`cdnCidrs ${this.cdnCidrs.name} has ${this.cdnCidrs.count} blocks after aggregation, more than ${MAX_CDN_BLOCKS}: a "deny everything outside" list cannot be split over several policies; check that the list holds only the CDN's egress ranges`);
    }
    this.policy = new SourceIpPolicy(this, 'Resource', {
      target: props.gateway,
      cidrs: this.cdnCidrs.cidrs,
      action: PolicyAction.DENY,
      negate: true,
      name: props.name,
    });
    this.node.addValidation({ validate: () => this.checkCdnIsWhatTheFieldSees(chain) });
  }

  /** With a declared chain, `remote.ip` must be the CDN: as many trusted hops as appending hops after it. */
  private checkCdnIsWhatTheFieldSees(chain: TrustChain | undefined): string[] {
    const model = this.gateway._gatewayModel();
    if (!chain || !model) return [];
    const cdnIndex = cdnHopIndex(chain);
    if (cdnIndex < 0) return [];
    const after = chain.hops.slice(cdnIndex + 1).filter(h => h.appendsXff).length;
    if (this.policy.field === ClientIpField.REMOTE_IP_BLOCKS && model.numTrustedProxies !== after) {
      return [`gateway "${model.namespace}/${model.name}" has numTrustedProxies ${model.numTrustedProxies}, so remote.ip is not the CDN hop "${chain.hops[cdnIndex].name}" `
        + `(${after} X-Forwarded-For appending hop(s) after it) and the CdnOnlyPolicy would deny real clients; set clientHeader on the CDN hop so the chain derives ${after}, or remove numTrustedProxies`];
    }
    return [];
  }
}

function cdnHopIndex(chain: TrustChain): number {
  const withHeader = chain.hops.findIndex(h => h.clientHeader !== undefined);
  return withHeader >= 0 ? withHeader : chain.hops.findIndex(h => h.kind === 'cdn');
}

function cdnCidrsOf(chain: TrustChain | undefined, gateway: ISourceIpTarget): CidrList {
  const hop = chain ? chain.hops[cdnHopIndex(chain)] : undefined;
  if (!hop || hop.cidrs.length === 0) {
    throw new Error(`cdnCidrs is required: gateway "${gateway.node.path}" declares no CDN hop with cidrs in its trustChain; pass the CDN's egress ranges, e.g. cdnCidrs: CidrList.fromFile("cdn-ranges.txt")`);
  }
  return CidrList.fromCidrs(hop.cidrs, { name: `${hop.name}.cidrs` });
}
