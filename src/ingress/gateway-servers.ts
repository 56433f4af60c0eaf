import { GatewayApiServer } from './gateway-api-rendering';
import { gatewayListenerPort, STATUS_PORT } from '../envoy/names';
import { ServerModel } from '../model/model';
import { checkHostname, checkPort } from '../util/validate';

/*
 * The servers and routes an ingress gateway keeps, and the checks on them that do not depend on the flavour's
 * rendering (internal): hosts, backends, a new server against the ones added before, a route against the servers.
 */

/** A server of the gateway as kept by the construct (rendered lazily). */
export type ServerEntry = GatewayApiServer;

/** One prefix route of an HTTP host. */
export interface HttpRouteEntry { readonly pathPrefix: string; readonly backendHost: string; readonly backendPort: number }

/** A route's backend Service, checked. */
export interface RouteBackend { readonly backendHost: string; readonly backendPort: number }

/** A Gateway API hostname: lower-case DNS labels, optionally after a leading `*.`; `*` stands for none. */
const GATEWAY_API_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkGatewayApiHostname(property: string, host: string): void {
  if (host === '*' || GATEWAY_API_HOSTNAME.test(host)) return;
  throw new Error(`${property} ${JSON.stringify(host)} is not allowed with flavour gateway-api: a Gateway API hostname is lower-case DNS labels, optionally after a leading "*." (no upper case, no "*" elsewhere); write it as ${JSON.stringify(host.toLowerCase())} if that is the host meant`);
}

/** A TLSRoute's hostnames take no bare "*" (and v1 requires at least one), so it cannot say "every SNI name". */
export function checkGatewayApiSniHost(host: string): void {
  if (host === '*') {
    throw new Error('addTlsRoute sniHosts "*" is not allowed with flavour gateway-api: a TLSRoute matches only the SNI names it lists, and its hostnames take no bare "*"; list the names, such as ["db.example.com"] or ["*.example.com"], or pass every connection on the port through with addTcpServer() and addTcpRoute()');
  }
  checkGatewayApiHostname('addTlsRoute sniHosts', host);
}

export function checkHosts(property: string, hosts: string[] | undefined): string[] {
  const list = hosts ?? ['*'];
  if (!Array.isArray(list)) {
    throw new Error(`${property} ${JSON.stringify(hosts)} is not a list: give hosts as a list, such as ["app.example.com"] or ["*"]`);
  }
  if (list.length === 0) {
    throw new Error(`${property} ${JSON.stringify(hosts)} is empty: give at least one host, such as ["app.example.com"] or ["*"]`);
  }
  return list.map(h => checkHostname(property, h, true));
}

export function checkBackend(method: string, host: string, port: number): RouteBackend {
  if (typeof host !== 'string' || host.includes('*')) {
    throw new Error(`${method} backendHost ${JSON.stringify(host)} is not allowed: give a Service host such as "httpbin.default.svc.cluster.local", without wildcards`);
  }
  return { backendHost: checkHostname(`${method} backendHost`, host), backendPort: checkPort(`${method} backendPort`, port) };
}

export function hostMatches(serverHost: string, host: string): boolean {
  const h = serverHost.includes('/') ? serverHost.slice(serverHost.indexOf('/') + 1) : serverHost;
  if (h === '*' || host === '*' || h === host) return true;
  if (h.startsWith('*.')) return host.endsWith(h.slice(1));
  if (host.startsWith('*.')) return h.endsWith(host.slice(1));
  return false;
}

export function toServerModel(s: ServerEntry, targetPort: number): ServerModel {
  const mode = s.tls?.mode;
  return {
    port: s.port,
    targetPort,
    protocol: s.protocol,
    hosts: [...s.hosts],
    ...(typeof mode === 'string' ? { tlsMode: mode } : {}),
  };
}

/**
 * Checks a server against the ones added before (throws with the fix): the status port, one listener per pod port,
 * one protocol per port, a host either served or redirected; with the Gateway API, listener hostnames.
 *
 * @param podPort the pod port of a server port (the flavour decides)
 * @param gatewayPath the gateway construct's path, for messages
 */
export function checkNewServer(servers: readonly ServerEntry[], server: ServerEntry, method: string, gatewayApi: boolean,
  podPort: (servicePort: number) => number, gatewayPath: string): void {
  checkPort(`${method} port`, server.port);
  if (server.port === STATUS_PORT) {
    throw new Error(`${method} port ${server.port} is not allowed: it is the gateway's status port; choose another port`);
  }
  if (gatewayApi) {
    const nsHost = server.hosts.find(h => h.includes('/'));
    if (nsHost !== undefined) {
      throw new Error(`${method} hosts ${JSON.stringify(nsHost)} is not allowed with flavour gateway-api: a listener hostname has no namespace part; write the host alone, such as "app.example.com"`);
    }
    server.hosts.forEach(h => checkGatewayApiHostname(`${method} hosts`, h));
    const sameHost = servers.find(s => s.port === server.port && s.hosts.some(h => server.hosts.includes(h)));
    if (sameHost) {
      throw new Error(`${method} port ${server.port} hosts ${JSON.stringify(server.hosts)} overlap a server added before on that port: with flavour gateway-api each port and hostname is one listener; add the hosts to one server, or use another port`);
    }
  }
  const sharedListener = servers.find(s => s.port !== server.port && podPort(s.port) === podPort(server.port));
  if (sharedListener) {
    throw new Error(`${method} port ${server.port} is not allowed on gateway "${gatewayPath}": the pod listens on ${gatewayListenerPort(server.port)} for it, as for the server on port ${sharedListener.port} (ports below 1024 listen on port + 8000); choose another port`);
  }
  const clash = servers.find(s => s.port === server.port && s.protocol !== server.protocol);
  if (clash) {
    throw new Error(`${method} port ${server.port} already has a ${clash.protocol} server: one port serves one protocol, so give the ${server.protocol} server another port`);
  }
  const sameTls = servers.find(s => s.port === server.port && (s.tls?.httpsRedirect === true) !== (server.tls?.httpsRedirect === true)
    && s.hosts.some(h => server.hosts.includes(h)));
  if (sameTls) {
    throw new Error(`${method} port ${server.port} hosts ${JSON.stringify(server.hosts)} already have ${sameTls.tls?.httpsRedirect ? 'an HTTPS redirect' : 'a plain HTTP server'}: a host is either served or redirected on a port, not both`);
  }
}

/** The validation error of a route whose gateway has no server of `protocols` accepting it (none when it has one). */
export function routeServerErrors(servers: readonly ServerEntry[], gatewayName: string, method: string, protocols: string[],
  host?: string, port?: number): string[] {
  // An HTTPS redirect server answers every request with a redirect: a route on it serves nothing (Istio's
  // `tls.httpsRedirect`; the Gateway API attaches no route to the redirect listener).
  const found = servers.some(s => protocols.includes(s.protocol) && (port === undefined || s.port === port) && s.tls?.httpsRedirect !== true
    && (host === undefined || s.hosts.some(h => hostMatches(h, host))));
  if (found) return [];
  return [`${method} ${host !== undefined ? `host "${host}" ` : ''}${port !== undefined ? `port ${port} ` : ''}has no ${protocols.join(' or ')} server on gateway "${gatewayName}" that accepts it: add one with ${protocols.includes('HTTP') ? 'addHttpServer() or addHttpsServer()' : protocols.includes('TCP') ? 'addTcpServer()' : 'addTlsPassthroughServer()'}`];
}
