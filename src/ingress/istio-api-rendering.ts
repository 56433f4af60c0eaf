import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { HttpRouteEntry, RouteBackend, ServerEntry } from './gateway-servers';
import { NETWORKING } from './l1';
import { DOWNSTREAM_ADDRESS_WITHOUT_PORT } from '../envoy/client-fields';
import { LibraryManifest } from '../util/library-manifest';

/*
 * What an ingress gateway of GatewayFlavour.ISTIO renders through Istio's own API (internal): the Gateway with its
 * servers and the VirtualServices of its routes.
 */

/** The gateway's name and namespace (of the Gateway and its routes). */
export interface GatewayName { readonly name: string; readonly namespace: string }

/** The Istio Gateway; its servers are rendered at synthesis, from the servers added by then. */
export function renderIstioGateway(scope: Construct, gw: GatewayName, annotations: { [key: string]: string },
  selector: { [key: string]: string }, servers: readonly ServerEntry[]): ApiObject {
  return LibraryManifest.render(scope, 'Resource', NETWORKING.Gateway, {
    metadata: { name: gw.name, namespace: gw.namespace, annotations },
    spec: {
      selector,
      servers: Lazy.any({ produce: () => renderServers(servers) }),
    },
  });
}

/** `spec.servers` of the Istio Gateway, each port named `<protocol>-<port>[-n]`. */
function renderServers(servers: readonly ServerEntry[]): any[] {
  const counts = new Map<string, number>();
  return servers.map(s => {
    const base = `${s.protocol.toLowerCase()}-${s.port}`;
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return {
      port: { number: s.port, name: n === 0 ? base : `${base}-${n}`, protocol: s.protocol },
      hosts: [...s.hosts],
      ...(s.tls ? { tls: { ...s.tls } } : {}),
    };
  });
}

/** The `index`-th route of the gateway as a VirtualService bound to its Gateway; `spec` is rendered at synthesis. */
export function renderVirtualService(scope: Construct, index: number, gw: GatewayName, hosts: string[],
  spec: () => { [key: string]: unknown }): ApiObject {
  return LibraryManifest.render(scope, `Route${index}`, NETWORKING.VirtualService, {
    metadata: { name: `${gw.name}-route-${index}`, namespace: gw.namespace },
    spec: Lazy.any({ produce: () => ({ hosts, gateways: [`${gw.namespace}/${gw.name}`], ...spec() }) }),
  });
}

export function destination(backend: RouteBackend): any {
  return { host: backend.backendHost, port: { number: backend.backendPort } };
}

/**
 * The `http` routes of a VirtualService; with `clientHeader`, each sets it to the client the gateway resolved. istiod
 * turns `headers.request.set` into the route's `request_headers_to_add` with OVERWRITE_IF_EXISTS_OR_ADD
 * (pilot/pkg/networking/core/route/route.go, translateAppendHeaders), and Envoy expands command operators in those
 * values (envoy source/common/router/header_parser.cc).
 */
export function renderHttpRoutes(routes: HttpRouteEntry[], clientHeader?: string): any[] {
  const headers = clientHeader === undefined ? {} : { headers: { request: { set: { [clientHeader]: DOWNSTREAM_ADDRESS_WITHOUT_PORT } } } };
  // Istio takes the first match: the longest prefix goes first so that "/" does not shadow "/api".
  return [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)
    .map(r => ({ match: [{ uri: { prefix: r.pathPrefix } }], ...headers, route: [{ destination: destination(r) }] }));
}
