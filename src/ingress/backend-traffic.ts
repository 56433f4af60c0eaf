import { ApiObject, JsonPatch } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Topology } from '../model/topology';
import { appRootOf } from '../util/app-root';
import { SourceIpWarnings } from '../util/warnings';

/*
 * What the routes and backends of an app say about the traffic each backend Service carries (HTTP, raw TCP or
 * TLS), checked once per app at synthesis against the Services' ports: Istio picks the protocol of a port from
 * its name or appProtocol, and treats raw TCP on an "http" port as HTTP, which breaks it. Services this library
 * creates get their port named from the routes; Services it does not own are checked.
 */

/** The protocol a route or backend sends to a Service port. */
export type BackendProtocol = 'http' | 'tcp' | 'tls';

/** One route's or backend's word on a Service. */
export interface TrafficClaim {
  /** The backend host, fully qualified (`name.namespace.svc.cluster.local`). */
  readonly host: string;
  /** The Service port; every port when absent. */
  readonly port?: number;
  readonly protocol: BackendProtocol;
  /** Who says so, for messages: 'addTcpRoute on gateway "edge"'. */
  readonly by: string;
}

interface OwnedPort {
  readonly service: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  readonly owner: IConstruct;
}

interface ShortHost {
  readonly scope: IConstruct;
  readonly method: string;
  readonly host: string;
  readonly fqdn: string;
  readonly routeNamespace: string;
}

interface AppTraffic {
  readonly claims: TrafficClaim[];
  readonly owned: OwnedPort[];
  readonly shortHosts: ShortHost[];
  readonly patched: Set<ApiObject>;
}

const APPS = new WeakMap<IConstruct, AppTraffic>();

function trafficOf(scope: IConstruct): AppTraffic {
  const root = appRootOf(scope);
  let traffic = APPS.get(root);
  if (!traffic) {
    traffic = { claims: [], owned: [], shortHosts: [], patched: new Set() };
    APPS.set(root, traffic);
    Topology.of(scope).addAppValidationOnce('backend-traffic', () => checkBackendTraffic(root, traffic!));
  }
  return traffic;
}

/**
 * A backend host as Istio reads it in a route of `routeNamespace`: a short name (no dot) is resolved in the
 * route's namespace, written out in full so that the manifest says what it means. Names with a dot are taken as
 * they are, as Istio takes them.
 */
export function resolveBackendHost(scope: IConstruct, method: string, host: string, routeNamespace: string): string {
  if (host.includes('.')) return host;
  const fqdn = `${host}.${routeNamespace}.svc.cluster.local`;
  trafficOf(scope).shortHosts.push({ scope, method, host, fqdn, routeNamespace });
  return fqdn;
}

/** Records what a route or backend sends to a Service. */
export function claimTraffic(scope: IConstruct, claim: TrafficClaim): void {
  trafficOf(scope).claims.push(claim);
}

/** Records a Service port this library created, to be named (and given an appProtocol) from the routes to it. */
export function ownServicePort(owner: IConstruct, service: ApiObject, port: number): void {
  trafficOf(owner).owned.push({ service, name: service.name, namespace: service.metadata.namespace ?? 'default', port, owner });
}

const HTTP_LIKE = ['http', 'http2', 'grpc', 'grpc-web', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss'];

/** The protocol Istio reads from a Service port: appProtocol first, then the name's prefix before "-". */
function declaredProtocol(port: { name?: unknown; appProtocol?: unknown }): string | undefined {
  if (typeof port.appProtocol === 'string') return port.appProtocol.toLowerCase();
  if (typeof port.name === 'string') return port.name.toLowerCase().split('-')[0];
  return undefined;
}

function fqdnOf(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

function checkBackendTraffic(root: IConstruct, traffic: AppTraffic): string[] {
  const byHost = new Map<string, TrafficClaim[]>();
  for (const c of traffic.claims) {
    const list = byHost.get(c.host);
    if (list) list.push(c);
    else byHost.set(c.host, [c]);
  }
  const owned = new Set(traffic.owned.map(o => o.service));
  const serviceNamespaces = new Map<string, string[]>();
  const errors: string[] = [];
  for (const c of Topology.of(root).apiObjects()) {
    if (c.kind !== 'Service' || c.apiVersion !== 'v1') continue;
    const namespace = c.metadata.namespace ?? 'default';
    serviceNamespaces.set(c.name, [...(serviceNamespaces.get(c.name) ?? []), namespace]);
    const claims = byHost.get(fqdnOf(c.name, namespace));
    if (!claims || owned.has(c)) continue;
    errors.push(...contradictions(c, namespace, claims));
  }
  for (const o of traffic.owned) errors.push(...nameOwnedPort(o, byHost.get(fqdnOf(o.name, o.namespace)) ?? [], traffic));
  for (const s of traffic.shortHosts) warnShortHost(s, serviceNamespaces.get(s.host) ?? []);
  return errors;
}

/** A Service the user brought: its ports must not say HTTP where a route or backend sends raw TCP or TLS. */
function contradictions(service: ApiObject, namespace: string, claims: TrafficClaim[]): string[] {
  const ports: any[] = Array.isArray((service.toJson() as any).spec?.ports) ? (service.toJson() as any).spec.ports : [];
  const errors: string[] = [];
  for (const claim of claims.filter(c => c.protocol !== 'http')) {
    for (const port of ports.filter(p => claim.port === undefined || p?.port === claim.port)) {
      const declared = declaredProtocol(port);
      if (declared === undefined || !HTTP_LIKE.includes(declared)) continue;
      errors.push(`the Service "${namespace}/${service.name}" port ${port.port} ${port.appProtocol !== undefined ? `has appProtocol "${port.appProtocol}"` : `is named "${port.name}"`}, so Istio treats its traffic as ${declared.toUpperCase()}, `
        + `but ${claim.by} sends ${claim.protocol === 'tcp' ? 'raw TCP' : 'TLS'} to it: name the port "${claim.protocol}" (or set appProtocol: ${claim.protocol}) on the Service`);
    }
  }
  return errors;
}

/** A Service port of ours: named and given an appProtocol from the routes to it; contradicting routes are an error. */
function nameOwnedPort(o: OwnedPort, claims: TrafficClaim[], traffic: AppTraffic): string[] {
  const relevant = claims.filter(c => c.port === undefined || c.port === o.port);
  if (relevant.length === 0) return [];
  const protocols = [...new Set(relevant.map(c => c.protocol))];
  const http = relevant.find(c => c.protocol === 'http');
  const raw = relevant.find(c => c.protocol !== 'http');
  if (http && raw) {
    return [`newDeployment servicePort ${o.port} of Service "${o.namespace}/${o.name}" is sent HTTP by ${http.by} and ${raw.protocol === 'tcp' ? 'raw TCP' : 'TLS'} by ${raw.by}: `
      + 'one Service port carries one protocol; route one of them to another port or Service'];
  }
  const protocol: BackendProtocol = protocols.includes('tls') ? 'tls' : protocols.includes('tcp') ? 'tcp' : 'http';
  if (!traffic.patched.has(o.service)) {
    traffic.patched.add(o.service);
    o.service.addJsonPatch(JsonPatch.replace('/spec/ports/0/name', protocol), JsonPatch.add('/spec/ports/0/appProtocol', protocol));
  }
  return [];
}

function warnShortHost(s: ShortHost, namespaces: string[]): void {
  if (namespaces.includes(s.routeNamespace)) return;
  if (namespaces.length === 0) {
    // No Service of that name in the app: the short name still resolves in the route's namespace (a gateway's, often
    // istio-system), which is rarely where the user's Service is.
    SourceIpWarnings.add(s.scope, `${s.method} backendHost "${s.host}" is a short name: Istio resolves it in the route's namespace "${s.routeNamespace}" to ${s.fqdn}, `
      + `and this app has no Service "${s.host}" there; if the Service is in another namespace, write its full host, e.g. "${fqdnOf(s.host, 'default')}"`);
    return;
  }
  SourceIpWarnings.add(s.scope, `${s.method} backendHost "${s.host}" is a short name: Istio resolves it in the route's namespace "${s.routeNamespace}" to ${s.fqdn}, `
    + `but Service "${s.host}" is in namespace ${namespaces.map(n => `"${n}"`).join(', ')}; write the full host, e.g. "${fqdnOf(s.host, namespaces[0])}"`);
}
