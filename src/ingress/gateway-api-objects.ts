import { ApiObject, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { backendRef, GatewayApiListener, GatewayApiParameters, isServingListener, renderListeners, renderParameterOverlays } from './gateway-api-rendering';
import { hostMatches, HttpRouteEntry, RouteBackend, ServerEntry } from './gateway-servers';
import { GatewayName } from './istio-api-rendering';
import { GATEWAY_API } from './l1';
import { PROXY_CONFIG_ANNOTATION } from '../envoy/names';
import { GATEWAY_API_GROUP, ISTIO_GATEWAY_CLASS, serviceOfHost } from '../model/gateway-api';
import { IstioVersion } from '../model/istio-version';
import { LibraryManifest } from '../util/library-manifest';

/*
 * The objects an ingress gateway of GatewayFlavour.GATEWAY_API renders (internal): the Gateway, its parametersRef
 * ConfigMap, the routes bound to its listeners, and the ReferenceGrants for backends in other namespaces. The plain
 * data they carry (listeners, overlays) is src/ingress/gateway-api-rendering.ts.
 */

/** Name of a Gateway API gateway's parametersRef ConfigMap. */
function parametersName(gatewayName: string): string {
  return `${gatewayName}-options`;
}

/**
 * The Gateway API Gateway: listeners from the servers (rendered at synthesis), the ConfigMap by parametersRef, the
 * Istio release, the declared trust chain, and `proxyConfig` (rendered at synthesis) as the pods' topology annotation.
 */
export function renderGatewayApiGateway(scope: Construct, gw: GatewayName, versionAnnotations: { [key: string]: string },
  trustChainAnnotation: { [key: string]: string }, proxyConfig: () => string, listeners: () => GatewayApiListener[]): ApiObject {
  const { name, namespace } = gw;
  const lazyProxyConfig = Lazy.any({ produce: proxyConfig }) as unknown as string;
  const annotations: { [key: string]: string } = Object.assign({}, versionAnnotations, { [PROXY_CONFIG_ANNOTATION]: lazyProxyConfig },
    trustChainAnnotation);
  return LibraryManifest.render(scope, 'Resource', GATEWAY_API.Gateway, {
    metadata: { name, namespace, annotations },
    spec: {
      gatewayClassName: ISTIO_GATEWAY_CLASS,
      // Set, infrastructure.annotations replace the Gateway's annotations on the generated pods: it carries the one
      // the pods need, so the outcome is the same whether Istio copies metadata annotations or not.
      infrastructure: {
        annotations: { [PROXY_CONFIG_ANNOTATION]: lazyProxyConfig },
        parametersRef: { group: '', kind: 'ConfigMap', name: parametersName(name) },
      },
      listeners: Lazy.any({ produce: () => renderListeners(listeners()) }),
    },
  });
}

/** The parametersRef ConfigMap, whose overlays shape the Deployment, Service, PDB and autoscaler Istio generates. */
export function renderGatewayApiParameters(scope: Construct, namespace: string, overlays: GatewayApiParameters): ApiObject {
  return LibraryManifest.render(scope, 'Parameters', kplus.k8s.KubeConfigMap, {
    metadata: { name: parametersName(overlays.gatewayName), namespace },
    data: renderParameterOverlays(overlays),
  });
}

/** `parentRefs` to the listeners of `protocols` that accept `host` (on `port`), redirects left out. */
function parentRefs(gw: GatewayName, listeners: GatewayApiListener[], protocols: string[], host?: string, port?: number): any[] {
  const { name, namespace } = gw;
  return listeners
    .filter(l => isServingListener(l, protocols) && (port === undefined || l.server.port === port)
      && (host === undefined || hostMatches(l.hostname ?? '*', host)))
    .map(l => ({ group: GATEWAY_API_GROUP, kind: 'Gateway', name, namespace, sectionName: l.name }));
}

/** The `index`-th route of the gateway: an HTTPRoute for `host`, its rules (longest prefix first) rendered at synthesis. */
export function renderHttpRoute(scope: Construct, index: number, gw: GatewayName, listeners: () => GatewayApiListener[],
  host: string, routes: HttpRouteEntry[]): ApiObject {
  return LibraryManifest.render(scope, `Route${index}`, GATEWAY_API.HttpRoute, {
    metadata: { name: `${gw.name}-route-${index}`, namespace: gw.namespace },
    spec: Lazy.any({
      produce: () => ({
        parentRefs: parentRefs(gw, listeners(), ['HTTP', 'HTTPS'], host),
        ...(host === '*' ? {} : { hostnames: [host] }),
        rules: [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length).map(r => ({
          matches: [{ path: { type: 'PathPrefix', value: r.pathPrefix } }],
          backendRefs: [backendRef(serviceOfHost(r.backendHost)!, r.backendPort)],
        })),
      }),
    }),
  });
}

/** The `index`-th route of the gateway: an HTTPRoute that redirects the listeners of `server` to HTTPS. */
export function renderRedirectRoute(scope: Construct, index: number, gw: GatewayName, listeners: () => GatewayApiListener[],
  server: ServerEntry): ApiObject {
  const { name, namespace } = gw;
  return LibraryManifest.render(scope, `Route${index}`, GATEWAY_API.HttpRoute, {
    metadata: { name: `${name}-route-${index}`, namespace },
    spec: Lazy.any({
      produce: () => ({
        parentRefs: listeners().filter(l => l.server === server).map(l => ({ group: GATEWAY_API_GROUP, kind: 'Gateway', name, namespace, sectionName: l.name })),
        rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
      }),
    }),
  });
}

/** The `index`-th route of the gateway: a TCPRoute (no hosts) or TLSRoute (SNI hosts) in the version the Istio release reads. */
export function renderStreamRoute(scope: Construct, index: number, gw: GatewayName, listeners: () => GatewayApiListener[],
  istioVersion: IstioVersion, tls: boolean, port: number, sniHosts: string[], backend: RouteBackend): ApiObject {
  const props = {
    metadata: { name: `${gw.name}-route-${index}`, namespace: gw.namespace },
    spec: Lazy.any({
      produce: () => ({
        parentRefs: parentRefs(gw, listeners(), [tls ? 'TLS' : 'TCP'], undefined, port)
          .filter(ref => !tls || sniHosts.some(h => listeners().some(l => l.name === ref.sectionName && hostMatches(l.hostname ?? '*', h)))),
        ...(tls ? { hostnames: [...sniHosts] } : {}),
        rules: [{ backendRefs: [backendRef(serviceOfHost(backend.backendHost)!, backend.backendPort)] }],
      }),
    }),
  };
  const id = `Route${index}`;
  if (tls) {
    const tlsRoute = istioVersion.tlsRouteApiVersion.endsWith('/v1') ? GATEWAY_API.TlsRoute : GATEWAY_API.TlsRouteV1Alpha2;
    return LibraryManifest.render(scope, id, tlsRoute, props);
  }
  const tcpRoute = istioVersion.tcpRouteApiVersion.endsWith('/v1') ? GATEWAY_API.TcpRoute : GATEWAY_API.TcpRouteV1Alpha2;
  return LibraryManifest.render(scope, id, tcpRoute, props);
}

/**
 * The ReferenceGrants of one gateway's routes: one per backend namespace other than the gateway's, granting the route
 * kinds that refer to it (rendered at synthesis).
 */
export class ReferenceGrants {
  /** Backend namespaces other than the gateway's that routes refer to, with the route kinds. */
  private readonly granted = new Map<string, Set<string>>();

  constructor(private readonly scope: Construct, private readonly gw: GatewayName) {}

  /**
   * Checks that a Gateway API route can reach `backendHost` (a Service, by name) and grants a route of `protocol`
   * access to it when it is in another namespace.
   */
  public grant(method: string, backendHost: string, protocol: 'http' | 'tcp' | 'tls'): void {
    const service = serviceOfHost(backendHost);
    if (!service) {
      throw new Error(`${method} backendHost "${backendHost}" is not allowed with flavour gateway-api: a route's backendRefs name a Kubernetes Service, so give a host such as "httpbin.default.svc.cluster.local"; for other hosts use GatewayFlavour.ISTIO`);
    }
    if (service.namespace === this.gw.namespace) return;
    let kinds = this.granted.get(service.namespace);
    if (!kinds) {
      kinds = new Set();
      this.granted.set(service.namespace, kinds);
      const granted = kinds;
      LibraryManifest.render(this.scope, `ReferenceGrant-${service.namespace}`, GATEWAY_API.ReferenceGrantV1Beta1, {
        metadata: { name: `${this.gw.namespace}-${this.gw.name}-routes`.slice(0, 63).replace(/-+$/, ''), namespace: service.namespace },
        spec: Lazy.any({
          produce: () => ({
            from: [...granted].sort().map(kind => ({ group: GATEWAY_API_GROUP, kind, namespace: this.gw.namespace })),
            to: [{ group: '', kind: 'Service' }],
          }),
        }),
      });
    }
    kinds.add(protocol === 'http' ? 'HTTPRoute' : protocol === 'tcp' ? 'TCPRoute' : 'TLSRoute');
  }
}
