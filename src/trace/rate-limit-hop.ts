import { ADDRESSES } from './context';
import { HopTrace, RateLimitAt } from './trace-types';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { describeRateLimit, RateLimitModel } from '../model/rate-limit';

/*
 * Per-client rate limits at the hop that applies them. Envoy's `remote_address` rate-limit action keys the bucket on
 * the stream's downstream remote address (envoyproxy/envoy source/common/router/router_ratelimit.cc,
 * `RemoteAddressAction::populateDescriptor`: `info.downstreamAddressProvider().remoteAddress()`), which the connection
 * manager has replaced with the trusted client address it resolved (X-Forwarded-For with use_remote_address and
 * xff_num_trusted_hops, original IP detection, or the PROXY source): the address the trace calls `clientAddress` at
 * that hop, the one `remoteIpBlocks` matches. So the key is the hop's resolved client, honest and forged.
 */

/** The rate limits of a hop with the key each uses for the honest request and for one with a forged X-Forwarded-For. */
export function rateLimitsAt(limits: readonly RateLimitModel[], key: string, forgedKey: string): RateLimitAt[] {
  return limits.map(l => ({ rateLimit: `${l.namespace}/${l.name}`, limit: describeRateLimit(l), key, keyWithForgedXff: forgedKey }));
}

/** `hop` with its rate limits (unchanged when there are none). */
export function withRateLimits(hop: HopTrace, limits: RateLimitAt[]): HopTrace {
  return limits.length === 0 ? hop : Object.assign({}, hop, { rateLimits: limits });
}

/** What a per-client limit at the gateway means: it must key on the client, and a forged header must not move it. */
export function gatewayRateLimitFindings(limits: RateLimitAt[], addresses: Map<string, string>, where: string, findings: Finding[]): void {
  for (const l of limits) {
    if (l.keyWithForgedXff !== l.key && ADDRESSES.forged.includes(l.keyWithForgedXff)) {
      findings.push(finding(FindingSeverity.ERROR, where, `rate limit ${l.rateLimit} is spoofable: a client that sends X-Forwarded-For picks its bucket (got ${l.keyWithForgedXff}), so it can use other clients' buckets and never run out`,
        'set numTrustedProxies to the number of proxies in front that always append X-Forwarded-For (TrustChain.derive() counts them)'));
    } else if (l.key !== ADDRESSES.client) {
      const what = addresses.get(l.key) ?? (l.key === ADDRESSES.node ? 'the node' : 'not the client');
      findings.push(finding(FindingSeverity.ERROR, where, `rate limit ${l.rateLimit} is per client in name only: the gateway keys its buckets on ${l.key} (${what}), so every client that arrives the same way shares one bucket`,
        'make the gateway resolve the client first (externalTrafficPolicy Local, PROXY protocol from the load balancer, or numTrustedProxies equal to the hops in front that append X-Forwarded-For), or remove rateLimitPerClient()'));
    }
  }
}

/**
 * A per-client limit on a sidecar, for requests that come through a gateway: keyed on the gateway pod (or on whatever
 * the sidecar takes from X-Forwarded-For), it is one bucket for every client of that gateway.
 */
export function behindGatewayRateLimitFindings(limits: RateLimitAt[], gateway: string, where: string, findings: Finding[]): void {
  for (const l of limits) {
    if (l.keyWithForgedXff !== l.key && ADDRESSES.forged.includes(l.keyWithForgedXff)) {
      findings.push(finding(FindingSeverity.ERROR, where, `rate limit ${l.rateLimit} is spoofable for requests through ${gateway}: the proxy takes its key from X-Forwarded-For entries the client wrote (got ${l.keyWithForgedXff}), so a client picks its bucket`,
        'trust only the hops that append X-Forwarded-For on this proxy, or put the limit on the gateway (rateLimitPerClient() there)'));
    } else if (l.key !== ADDRESSES.client) {
      const what = l.key === ADDRESSES.gatewayPod ? 'the gateway pod' : 'not the client';
      findings.push(finding(FindingSeverity.WARNING, where, `rate limit ${l.rateLimit} keys on ${l.key} (${what}) for requests through ${gateway}: every client of that gateway shares one bucket`,
        'put the per-client limit on the gateway (rateLimitPerClient() there), where the client is resolved, or make this proxy resolve the client the gateway forwards (XffSidecarFilter)'));
    }
  }
}

/** A per-client limit on a proxy that in-mesh callers reach directly: a caller that writes X-Forwarded-For picks its bucket. */
export function inMeshRateLimitFindings(limits: RateLimitAt[], where: string, findings: Finding[]): void {
  for (const l of limits) {
    if (l.keyWithForgedXff === l.key) continue;
    findings.push(finding(FindingSeverity.WARNING, where, `rate limit ${l.rateLimit} is forgeable from inside the mesh: a pod that calls this proxy directly picks its bucket by sending X-Forwarded-For (got ${l.keyWithForgedXff})`,
      'admit only the gateway to the workload (an AuthorizationPolicy on principals), so that only requests with a key the gateway wrote arrive'));
  }
}
