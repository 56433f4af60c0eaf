import { listOf, namespaceOf } from './objects';
import { DOWNSTREAM_ADDRESS_WITHOUT_PORT, OVERWRITE_HEADER } from '../../envoy/client-fields';
import { GATEWAY_API_GROUP, gatewayApiResourceKey } from '../../model/gateway-api';
import { TracedGateway } from '../../model/trace-model';

/*
 * The client-address header read back (`clientAddressHeader()`): an EnvoyFilter ROUTE_CONFIGURATION MERGE, or the
 * VirtualServices bound to a gateway, that set a header to %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% and overwrite it.
 */

/** The header an EnvoyFilter configPatch writes the client into (lower case), when it is such a patch. */
export function clientAddressHeaderOf(c: any): string | undefined {
  if (c?.applyTo !== 'ROUTE_CONFIGURATION' || c.patch?.operation !== 'MERGE') return undefined;
  const entries = listOf(c.patch?.value?.request_headers_to_add ?? c.patch?.value?.requestHeadersToAdd);
  // `append: false` is the older spelling of OVERWRITE_IF_EXISTS_OR_ADD; appending would keep the caller's copy first.
  const written = entries.filter((e: any) => e?.header?.value === DOWNSTREAM_ADDRESS_WITHOUT_PORT && typeof e.header.key === 'string'
    && ((e.append_action ?? e.appendAction) === OVERWRITE_HEADER || e.append === false));
  return written.length > 0 ? String(written[written.length - 1].header.key).toLowerCase() : undefined;
}

/** The client-address header the last patch writes (the route configuration keeps the last overwrite). */
export function lastHeader(headers: string[]): { clientAddressHeader?: string } {
  return headers.length > 0 ? { clientAddressHeader: headers[headers.length - 1] } : {};
}

/** The header a VirtualService's HTTP routes set to the client the gateway resolved (`headers.request.set`). */
function virtualServiceHeader(vs: any): string | undefined {
  const sets = listOf(vs?.spec?.http).flatMap((r: any) => [r?.headers, ...listOf(r?.route).map((d: any) => d?.headers)])
    .map((h: any) => h?.request?.set).filter((s: any) => s !== null && typeof s === 'object' && !Array.isArray(s));
  const names = sets.flatMap((s: any) => Object.entries(s).filter(([, v]) => v === DOWNSTREAM_ADDRESS_WITHOUT_PORT).map(([k]) => k.toLowerCase()));
  return names.length > 0 ? names[names.length - 1] : undefined;
}

/**
 * The gateways with the header their bound VirtualServices write, where no EnvoyFilter already writes one (istiod
 * sets `headers.request.set` on the route; an EnvoyFilter on the route configuration is applied after it).
 */
export function withVirtualServiceHeaders(gateways: TracedGateway[], virtualServices: any[]): TracedGateway[] {
  const byGateway = new Map<string, string>();
  for (const vs of virtualServices) {
    const header = virtualServiceHeader(vs);
    if (header === undefined) continue;
    for (const g of listOf(vs.spec?.gateways)) {
      if (typeof g === 'string') byGateway.set(g.includes('/') ? g : `${namespaceOf(vs)}/${g}`, header);
    }
  }
  return byGateway.size === 0 ? gateways : withHeaders(gateways, byGateway);
}

/** Each gateway with the header one of its resources (`byResource`) writes, unless it already writes one. */
function withHeaders(gateways: TracedGateway[], byResource: Map<string, string>): TracedGateway[] {
  return gateways.map(gw => {
    const header = gw.gatewayResources.map(r => byResource.get(r)).find(h => h !== undefined);
    return header === undefined || gw.model.clientAddressHeader !== undefined ? gw : { ...gw, model: { ...gw.model, clientAddressHeader: header } };
  });
}

/**
 * The header an HTTPRoute's RequestHeaderModifier sets to the command operator. The library writes the Gateway API
 * gateways' header with an EnvoyFilter (a portable HTTPRoute value is literal text), but Istio passes the value
 * unescaped into the route's request_headers_to_add (istio/istio pilot/pkg/config/kube/gateway/conversion.go,
 * createHeadersFilter and headerListToMap), where Envoy expands it: a hand-written one writes the client too.
 */
function httpRouteHeader(route: any): string | undefined {
  const filters = listOf(route?.spec?.rules)
    .flatMap((r: any) => [...listOf(r?.filters), ...listOf(r?.backendRefs).flatMap((b: any) => listOf(b?.filters))]);
  const names = filters.filter((f: any) => f?.type === 'RequestHeaderModifier')
    .flatMap((f: any) => listOf(f.requestHeaderModifier?.set))
    .filter((h: any) => typeof h?.name === 'string' && h.value === DOWNSTREAM_ADDRESS_WITHOUT_PORT)
    .map((h: any) => String(h.name).toLowerCase());
  return names.length > 0 ? names[names.length - 1] : undefined;
}

/** The gateways with the header their HTTPRoutes write (where nothing else already writes one). */
export function withHttpRouteHeaders(gateways: TracedGateway[], httpRoutes: any[]): TracedGateway[] {
  const byGateway = new Map<string, string>();
  for (const route of httpRoutes) {
    const header = httpRouteHeader(route);
    if (header === undefined) continue;
    for (const parent of listOf(route.spec?.parentRefs)) {
      if ((parent?.kind ?? 'Gateway') !== 'Gateway' || (parent?.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || typeof parent?.name !== 'string') continue;
      byGateway.set(gatewayApiResourceKey(typeof parent.namespace === 'string' ? parent.namespace : namespaceOf(route), parent.name), header);
    }
  }
  return byGateway.size === 0 ? gateways : withHeaders(gateways, byGateway);
}
