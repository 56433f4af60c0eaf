import { listOf, namespaceOf } from './objects';
import { ENVOY_DEFAULT_MAX_DYNAMIC_DESCRIPTORS, LOCAL_RATE_LIMIT_FILTER, REMOTE_ADDRESS_DESCRIPTOR_KEY } from '../../envoy/names';
import { finding } from '../../model/finding-text';
import { ProxyRole } from '../../model/model';
import { RateLimitModel } from '../../model/rate-limit';
import { Finding, FindingSeverity } from '../explain-report';
import { ReadContext, UINT32_MAX, readInteger } from '../read-values';
import { objectWhere } from '../skipped';

/*
 * Per-client rate limits: an EnvoyFilter that inserts Envoy's local rate-limit HTTP filter with a descriptor whose
 * `remote_address` entry has no value (one bucket per client address) and sets the `remote_address` rate-limit action
 * on virtual hosts or routes (or in the filter's own `rate_limits`). Read into the model the constructs build. Filters
 * with `targetRefs` are not read (sidecars and classic gateways ignore them), nor the WAYPOINT context (never applied).
 */

const PROXIES: { readonly [context: string]: ProxyRole } = {
  GATEWAY: ProxyRole.GATEWAY,
  SIDECAR_INBOUND: ProxyRole.SIDECAR,
};

/** The per-client rate limit an EnvoyFilter sets, if it sets one. */
export function readRateLimit(f: any, findings: Finding[]): RateLimitModel | undefined {
  const ctx: ReadContext = { where: objectWhere(f), findings };
  const patches = listOf(f.spec?.configPatches).filter((c: any) => c !== null && typeof c === 'object');
  const index = patches.findIndex((c: any) => c.applyTo === 'HTTP_FILTER' && c.patch?.value?.name === LOCAL_RATE_LIMIT_FILTER);
  if (index < 0) return undefined;
  const filter = patches[index];
  const typed = filter.patch.value.typed_config ?? filter.patch.value.typedConfig;
  if (typed === null || typeof typed !== 'object') return undefined;
  const field = `spec.configPatches[${index}].patch.value.typed_config`;
  const descriptors = listOf(typed.descriptors);
  const d = descriptors.findIndex((x: any) => isWildcardRemoteAddress(x?.entries));
  if (d < 0) return undefined;
  const context = String(filter.match?.context ?? '');
  const proxy = PROXIES[context];
  if (context === 'WAYPOINT') {
    // istio/istio master of 2026-08-27: listener.go patches a waypoint's listeners as SIDECAR_INBOUND, and
    // envoyfilter/listener_patch.go patchContextMatch matches only that context or ANY.
    findings.push(finding(FindingSeverity.WARNING, ctx.where, 'a per-client rate limit in match.context WAYPOINT is never applied: istiod patches a waypoint\'s listeners in the SIDECAR_INBOUND context, and no patch matches WAYPOINT',
      'limit clients at the ingress gateway instead (rateLimitPerClient() on the gateway), where the client is resolved'));
    return undefined;
  }
  if (f.spec?.targetRefs !== undefined) return undefined;
  if (proxy === undefined) {
    findings.push(finding(FindingSeverity.WARNING, ctx.where, `a per-client rate limit in match.context ${JSON.stringify(filter.match?.context ?? 'ANY')} is not traced: explain follows it on GATEWAY and SIDECAR_INBOUND only`,
      'set match.context to the proxy that should apply the limit (GATEWAY for an ingress gateway)'));
    return undefined;
  }
  const producesKey = hasRemoteAddressAction(typed.rate_limits ?? typed.rateLimits)
    || patches.some((c: any) => ['VIRTUAL_HOST', 'HTTP_ROUTE'].includes(c.applyTo) && hasRemoteAddressAction(c.patch?.value?.rate_limits ?? c.patch?.value?.route?.rate_limits));
  if (!producesKey) {
    findings.push(finding(FindingSeverity.WARNING, ctx.where, 'the local rate limit has a remote_address descriptor, but no rate_limits action remote_address produces it: no request matches the descriptor, and no client is limited on its own',
      'add rate_limits: [{actions: [{remote_address: {}}]}] to the virtual hosts (an applyTo VIRTUAL_HOST MERGE patch)'));
    return undefined;
  }
  const bucket = descriptors[d].token_bucket ?? descriptors[d].tokenBucket ?? {};
  const bf = `${field}.descriptors[${d}].token_bucket`;
  const burst = readInteger(ctx, `${bf}.max_tokens`, bucket.max_tokens ?? bucket.maxTokens, 1, UINT32_MAX);
  const requests = readInteger(ctx, `${bf}.tokens_per_fill`, bucket.tokens_per_fill ?? bucket.tokensPerFill ?? 1, 1, UINT32_MAX);
  const fillIntervalMillis = readDurationMillis(ctx, `${bf}.fill_interval`, bucket.fill_interval ?? bucket.fillInterval);
  const maxClients = readInteger(ctx, `${field}.max_dynamic_descriptors`,
    typed.max_dynamic_descriptors ?? typed.maxDynamicDescriptors ?? ENVOY_DEFAULT_MAX_DYNAMIC_DESCRIPTORS, 1, UINT32_MAX);
  if (burst === undefined || requests === undefined || fillIntervalMillis === undefined || maxClients === undefined) return undefined;
  return {
    name: String(f.metadata?.name),
    namespace: namespaceOf(f),
    proxy,
    selector: stringsOf(f.spec?.workloadSelector?.labels),
    requests,
    fillIntervalMillis,
    burst,
    maxClients,
  };
}

/** True for descriptor entries `[{key: remote_address}]` with no value: Envoy keeps a bucket per address. */
function isWildcardRemoteAddress(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && entries[0]?.key === REMOTE_ADDRESS_DESCRIPTOR_KEY
    && (entries[0].value === undefined || entries[0].value === '');
}

/** True when a `rate_limits` list has an entry whose only action is `remote_address`. */
function hasRemoteAddressAction(rateLimits: unknown): boolean {
  return listOf(rateLimits).some((r: any) => {
    const actions = listOf(r?.actions);
    return actions.length === 1 && actions[0] !== null && typeof actions[0] === 'object'
      && (actions[0].remote_address !== undefined || actions[0].remoteAddress !== undefined);
  });
}

/** A proto3 JSON Duration ("1s", "0.05s") in whole milliseconds. */
function readDurationMillis(ctx: ReadContext, field: string, value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^(\d+)(\.\d{1,9})?s$/.exec(value) : null;
  const millis = m ? Math.round(Number(`${m[1]}${m[2] ?? ''}`) * 1000) : NaN;
  if (!(millis >= 1)) {
    ctx.findings.push(finding(FindingSeverity.ERROR, ctx.where, `${field} ${JSON.stringify(value)} is not a duration explain can read`,
      'write it as seconds with an "s" suffix, for example "1s" or "0.5s"'));
    return undefined;
  }
  return millis;
}

/** The string entries of a label map (other values are reported where the selector is read for the proxies). */
function stringsOf(labels: unknown): { [key: string]: string } {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return {};
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => typeof v === 'string')) as { [key: string]: string };
}
