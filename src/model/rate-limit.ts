import { ProxyRole } from './model';
import { namespaceReaches, selectorMatches } from './selectors';

/*
 * A per-client rate limit as plain data: Envoy's local rate limit with a `remote_address` descriptor whose entry has
 * no value, so that Envoy keeps one token bucket per client address (up to `maxClients`, least recently used first
 * out). The constructs build it from props, the parser reads it back from the EnvoyFilter, and the trace decides
 * whether the key Envoy uses at that hop is the client.
 */

/** A per-client rate limit on one kind of proxy (an EnvoyFilter of the library's shape). */
export interface RateLimitModel {
  /** Name of the EnvoyFilter. */
  readonly name: string;
  /** Namespace of the EnvoyFilter. */
  readonly namespace: string;
  /** The proxy it patches: GATEWAY or SIDECAR (inbound). */
  readonly proxy: ProxyRole;
  /** `workloadSelector.labels` (empty: every proxy of that kind in the namespace). */
  readonly selector: { [key: string]: string };
  /** Tokens added per fill interval (`tokens_per_fill`): the requests a client may send per interval. */
  readonly requests: number;
  /** The fill interval in milliseconds (`fill_interval`). */
  readonly fillIntervalMillis: number;
  /** The bucket size (`max_tokens`): the requests a client may send at once. */
  readonly burst: number;
  /** `max_dynamic_descriptors`: how many client buckets one proxy keeps. */
  readonly maxClients: number;
}

/**
 * The rate limits that apply on a proxy of `role` with pod labels `labels` in `namespace`, as Istio scopes an
 * EnvoyFilter: its namespace or a root namespace, and its `workloadSelector` (none: every proxy there; the library
 * always writes one).
 */
export function rateLimitsOn(limits: readonly RateLimitModel[], role: ProxyRole, namespace: string, labels: { readonly [key: string]: string },
  rootNamespaces: readonly string[] = []): RateLimitModel[] {
  return limits.filter(l => l.proxy === role && namespaceReaches(l.namespace, namespace, rootNamespaces) && selectorMatches(l.selector, labels));
}

/** "10 requests per 1s (burst 20, 10000 clients)": how a rate limit reads in reports. */
export function describeRateLimit(l: RateLimitModel): string {
  return `${l.requests} requests per ${formatMillis(l.fillIntervalMillis)} (burst ${l.burst}, up to ${l.maxClients} clients)`;
}

function formatMillis(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
