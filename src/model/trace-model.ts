import { IstioVersion } from './istio-version';
import { GatewayModel, PolicyModel, ProxyProtocolVersion, WaypointModel, WorkloadModel } from './model';
import { RateLimitModel } from './rate-limit';
import { TrustChain } from './trust-chain';
import { XffFilterModel } from './xff-filter-checks';

/*
 * The one model the trace reads (internal): everything that decides which address each hop sees and what each
 * policy matches. The constructs fill it (`Topology.traceModel()`), the parser builds it from manifests
 * (`parseManifests`), and `trace()` (src/trace/) is the only place that computes paths and findings from it.
 */

/** More X-Forwarded-For appending proxies than any real chain has; the trace does not draw them one by one. */
export const MAX_ASSUMED_PROXIES = 64;

/** One environment variable of a proxy container and where its value comes from. */
export interface EnvSetting {
  /** The value; undefined when it comes from `valueFrom` (a Secret or ConfigMap that is not read). */
  readonly value?: string;
  /** Where it is set, e.g. "ProxyConfig istio-system/status-port (environmentVariables)". */
  readonly source: string;
}

/** True for the values Go's strconv.ParseBool reads as true (pilot-agent's boolean env parsing). */
export function isTrueEnv(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

/** An ingress gateway as the trace needs it: its model and the facts of its Service, load balancer and pods. */
export interface TracedGateway {
  readonly model: GatewayModel;
  /** The Service type, e.g. LoadBalancer; undefined when the Service is not known. */
  readonly serviceType?: string;
  /** True when the load balancer sends PROXY protocol (a Service annotation, or the library's fact annotation). */
  readonly loadBalancerSendsProxyProtocol: boolean;
  /** True when the cloud's own Service annotations switch PROXY on for every port. */
  readonly loadBalancerSendsProxyProtocolOnEveryPort: boolean;
  /** The declared hops in front. */
  readonly trustChain?: TrustChain;
  /** True when PROXY comes both from gatewayTopology and an EnvoyFilter. */
  readonly proxyProtocolTwice: boolean;
  /** `namespace/name` of the Istio Gateway resources bound to this gateway. */
  readonly gatewayResources: string[];
  /** ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL as the gateway's istio-proxy container gets it, when set. */
  readonly statusPortProxyProtocolEnv?: EnvSetting;
  /** False when the gateway's pods are not known (an installation): their container env may set more. */
  readonly agentEnvKnown: boolean;
  /** The load balancer recognised from the Service (a LoadBalancerProfile id), when one is. */
  readonly loadBalancerId?: string;
  /** The annotations of the gateway's Service. */
  readonly serviceAnnotations: { readonly [key: string]: string };
  /** True when the objects say a node address at the gateway is accepted (an explicit externalTrafficPolicy Cluster). */
  readonly nodeAddressAccepted?: boolean;
}

/** What a route carries to its backend: HTTP (HTTP, HTTPS terminated, gRPC) or TCP (TCP, TLS passthrough). */
export type RouteProtocol = 'HTTP' | 'TCP';

/** Adds a route of `gateway` to `workload` carrying `protocol` to `routes`. */
export function addRoute(routes: Map<string, Map<string, Set<RouteProtocol>>>, gateway: string, workload: string, protocol: RouteProtocol): void {
  let byWorkload = routes.get(gateway);
  if (!byWorkload) {
    byWorkload = new Map();
    routes.set(gateway, byWorkload);
  }
  const protocols = byWorkload.get(workload);
  if (protocols) protocols.add(protocol);
  else byWorkload.set(workload, new Set([protocol]));
}

/** A Service host of a route or DestinationRule (`name`, `name.namespace`, `name.namespace.svc.cluster.local`) as name and namespace. */
export function hostParts(host: string, namespace: string): [string, string] {
  const [name, ns = namespace] = host.split('.');
  return [name, ns];
}

/** The whole app or cluster as the trace reads it. */
export interface TraceModel {
  /** The mesh's root namespaces: Istio's default plus any named by the configuration. */
  readonly rootNamespaces: string[];
  /** The Istio release the objects are for, when they say so. */
  readonly istioVersion?: IstioVersion;
  /** `namespace/name` of workloads whose callers send PROXY (a DestinationRule), with the version. */
  readonly proxyProtocolTo: Map<string, ProxyProtocolVersion>;
  readonly gateways: TracedGateway[];
  readonly workloads: WorkloadModel[];
  readonly policies: PolicyModel[];
  /** Ambient waypoints. */
  readonly waypoints: WaypointModel[];
  /**
   * Per gateway (`namespace/name`), the workloads (`namespace/name`) its routes lead to, each with the protocols the
   * routes carry (HTTP for HTTP and terminated HTTPS, TCP for TCP and TLS passthrough); absent when nothing routes it.
   */
  readonly routes: Map<string, Map<string, Set<RouteProtocol>>>;
  /** The workloads behind Service `name` in `namespace`. */
  readonly workloadsOfService: (namespace: string, name: string) => WorkloadModel[];
  /**
   * Per namespace, the waypoint (`namespace/name`) its `istio.io/use-waypoint` label names: the waypoint of a Service
   * there whose workloads the model does not know. @default - none
   */
  readonly namespaceWaypoints?: ReadonlyMap<string, string>;
  /** The EnvoyFilter patches that set the client address on sidecars. */
  readonly xffFilters: XffFilterModel[];
  /** Per-client rate limits (EnvoyFilters with a `remote_address` local rate limit). */
  readonly rateLimits: RateLimitModel[];
}
