import { SelectorIndex } from './selector-index';
import { PolicyMatch } from './trace-types';
import { isPrivateAddress } from './xff-rule';
import { INBOUND_PASSTHROUGH_IPV4 } from '../envoy/names';
import { ClientIpField, PolicyModel, ProxyProtocolVersion } from '../model/model';
import { RateLimitModel } from '../model/rate-limit';
import { policyReaches } from '../model/selectors';
import { addressInCidr, Cidr, parseCidr } from '../net/cidr';
import { entryOf } from '../util/keys';

/*
 * What every step of a trace shares: the documentation addresses, the context of the whole input, and which
 * policies apply at a hop and what they match.
 */

/** Documentation addresses used by every trace (RFC 5737 and cluster-private ranges). */
export const ADDRESSES = {
  client: '203.0.113.10',
  forged: ['192.0.2.66', '192.0.2.67', '192.0.2.68', '192.0.2.69'],
  /** A client that skips the CDN and connects to the next hop (or the gateway) itself. */
  bypassing: '203.0.113.66',
  node: '10.0.0.4',
  gatewayPod: '10.244.0.5',
  meshClientPod: '10.244.2.9',
  waypointPod: '10.244.3.7',
  redirectPeer: INBOUND_PASSTHROUGH_IPV4,
};

/** Policy matches listed per hop: the rest are counted in the hop's note, so that output stays linear. */
export const MAX_POLICIES_PER_HOP = 32;

/** What every step of a trace needs from the whole input. */
export interface TraceContext {
  readonly policies: PolicyModel[];
  /** The policies by namespace and selector, so that finding a pod's policies stays constant time. */
  readonly policyIndex: SelectorIndex<PolicyModel>;
  readonly rootNamespaces: string[];
  /** Envoy 1.32 (Istio 1.24): private peers are internal by default. */
  readonly privateAddressesAreInternal: boolean;
  /** Workloads whose callers send PROXY protocol (a DestinationRule), by `namespace/name`. */
  readonly proxyProtocolTo: Map<string, ProxyProtocolVersion>;
  /** Policies attached to each waypoint (`namespace/name`) with targetRefs. */
  readonly waypointPolicies: Map<string, PolicyModel[]>;
  /** Per-client rate limits. */
  readonly rateLimits: readonly RateLimitModel[];
}

/** True when every CIDR of the policy is outside the private, unique-local and loopback ranges (client ranges). */
export function listsOnlyExternalRanges(p: PolicyModel): boolean {
  return p.cidrs.length > 0 && p.cidrs.every(c => !isPrivateAddress(c.split('/')[0]) && !c.startsWith('100.64.'));
}

export function join(xff: string[]): string | undefined {
  return xff.length > 0 ? xff.join(',') : undefined;
}

/** Istio's order: any matching DENY denies; then, with ALLOW policies present, a request no ALLOW matches is denied. */
export function deniedBy(matches: PolicyMatch[]): boolean {
  if (matches.some(m => m.action === 'DENY' && m.matches)) return true;
  const allows = matches.filter(m => m.action === 'ALLOW');
  return allows.length > 0 && !allows.some(m => m.matches);
}

/**
 * The policies that apply to pods with `labels` in `namespace` (its own and the mesh's root namespaces). A trace asks
 * this several times for each proxy (the honest and the forged request, then the findings): the answer is kept per
 * context and label map, and is shared, so read it without changing it.
 */
export function policiesFor(ctx: TraceContext, namespace: string, labels: { [key: string]: string }): readonly PolicyModel[] {
  const byLabels = entryOf(POLICIES_FOR, ctx, () => new WeakMap());
  const byNamespace = entryOf(byLabels, labels, () => new Map());
  return entryOf(byNamespace, namespace, () => ctx.policyIndex.matching([namespace, ...ctx.rootNamespaces], labels)
    .filter(p => policyReaches(p.namespace, (p.targetRefs ?? []).length > 0, namespace, ctx.rootNamespaces)));
}

const POLICIES_FOR = new WeakMap<TraceContext, WeakMap<object, Map<string, readonly PolicyModel[]>>>();

const PARSED_CIDRS = new WeakMap<PolicyModel, Cidr[]>();

function cidrsOf(p: PolicyModel): Cidr[] {
  let parsed = PARSED_CIDRS.get(p);
  if (!parsed) {
    parsed = p.cidrs.map(c => parseCidr(c));
    PARSED_CIDRS.set(p, parsed);
  }
  return parsed;
}

export function policyNote(policies: readonly PolicyModel[], note: string | undefined): string | undefined {
  if (policies.length <= MAX_POLICIES_PER_HOP) return note;
  const more = `${policies.length - MAX_POLICIES_PER_HOP} more policies apply here and are not listed`;
  return note ? `${note}; ${more}` : more;
}

export function matchPolicies(policies: readonly PolicyModel[], directPeer: string, remote: string | undefined): PolicyMatch[] {
  return policies.slice(0, MAX_POLICIES_PER_HOP).map(p => {
    const address = p.field === ClientIpField.IP_BLOCKS ? directPeer : remote ?? directPeer;
    const inside = cidrsOf(p).some(c => addressInCidr(address, c));
    const field = p.field === ClientIpField.IP_BLOCKS ? (p.negated ? 'notIpBlocks' : 'ipBlocks') : (p.negated ? 'notRemoteIpBlocks' : 'remoteIpBlocks');
    return { policy: `${p.namespace}/${p.name}`, action: p.action, field, cidrs: p.cidrs, address, matches: p.negated ? !inside : inside };
  });
}

/** The policies' `namespace/name`, each once, sorted: the text must not depend on the order the input lists them in. */
export function names(policies: readonly PolicyModel[]): string {
  return [...new Set(policies.map(p => `${p.namespace}/${p.name}`))].sort().join(', ');
}
