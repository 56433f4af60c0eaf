/*
 * Envoy extension names and type URLs used in EnvoyFilter patches, and Istio's well-known ports, addresses and
 * defaults, in one place. Every Envoy name is checked against Envoy's protos by the test harness
 * (test/harness/envoy-protos.ts).
 */

const TYPE = 'type.googleapis.com/';

/** Network filter name of the HTTP connection manager. */
export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
/** Type URL of the HTTP connection manager config. */
export const HCM_TYPE = `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;

/** Listener filter that reads PROXY protocol v1/v2 headers. */
export const PROXY_PROTOCOL_FILTER = 'envoy.filters.listener.proxy_protocol';
/** The pre-1.14 name of the same filter, still found in hand-written EnvoyFilters. */
export const LEGACY_PROXY_PROTOCOL_FILTER = 'envoy.listener.proxy_protocol';
/** Type URL of the PROXY protocol listener filter config. */
export const PROXY_PROTOCOL_TYPE = `${TYPE}envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol`;

/** Original IP detection extension that reads X-Forwarded-For. */
export const XFF_DETECTION = 'envoy.http.original_ip_detection.xff';
/** Type URL of the XFF original IP detection config. */
export const XFF_DETECTION_TYPE = `${TYPE}envoy.extensions.http.original_ip_detection.xff.v3.XffConfig`;
/** Original IP detection extension that reads the client from one request header (CF-Connecting-IP, True-Client-IP, ...). */
export const CUSTOM_HEADER_DETECTION = 'envoy.http.original_ip_detection.custom_header';
/** Type URL of the custom-header original IP detection config. */
export const CUSTOM_HEADER_DETECTION_TYPE = `${TYPE}envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig`;

/** HTTP filter of Envoy's local (per-proxy) rate limit. */
export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
/** Type URL of the local rate-limit HTTP filter config. */
export const LOCAL_RATE_LIMIT_TYPE = `${TYPE}envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit`;
/** The router, the last HTTP filter of every connection manager (other HTTP filters are inserted before it). */
export const ROUTER_FILTER = 'envoy.filters.http.router';
/**
 * The descriptor key of the `remote_address` rate-limit action: Envoy writes the stream's trusted downstream address
 * there (envoyproxy/envoy source/common/router/router_ratelimit.cc `RemoteAddressAction::populateDescriptor`:
 * `info.downstreamAddressProvider().remoteAddress()`, the address the connection manager resolved from
 * X-Forwarded-For, PROXY protocol or the socket).
 */
export const REMOTE_ADDRESS_DESCRIPTOR_KEY = 'remote_address';
/** The shortest token-bucket fill interval the local rate limit accepts, in milliseconds (local_rate_limit.proto). */
export const LOCAL_RATE_LIMIT_MIN_FILL_MILLIS = 50;
/**
 * How many per-value buckets Envoy keeps for a wildcard descriptor when `max_dynamic_descriptors` is not set
 * (envoyproxy/envoy source/extensions/filters/http/local_ratelimit/local_ratelimit.cc: `... : 20`).
 */
export const ENVOY_DEFAULT_MAX_DYNAMIC_DESCRIPTORS = 20;

/** The sidecar's inbound capture port, where SIDECAR_INBOUND listener filters run. */
export const SIDECAR_INBOUND_PORT = 15006;
/** The sidecar's inbound listener; every inbound filter chain lives in it. */
export const VIRTUAL_INBOUND_LISTENER = 'virtualInbound';
/** The address the sidecar uses to reach the app in REDIRECT mode. */
export const INBOUND_PASSTHROUGH_IPV4 = '127.0.0.6';
/** The gateway's status (readiness) port. */
export const STATUS_PORT = 15021;

/** The namespace istiod and the ingress gateway chart install into by default. */
export const ISTIO_SYSTEM_NAMESPACE = 'istio-system';
/** Istio's default `meshConfig.rootNamespace`: EnvoyFilters and policies there reach every namespace. */
export const DEFAULT_ROOT_NAMESPACE = ISTIO_SYSTEM_NAMESPACE;
/** The ConfigMap (in istiod's namespace) that istiod reads the default revision's meshConfig from; revision `r` reads `istio-r`. */
export const MESH_CONFIG_MAP = 'istio';
/** Name of the status port in the gateway Services of Istio's charts (and this library's). */
export const STATUS_PORT_NAME = 'status-port';

/** Pod annotation: the proxy's ProxyConfig (`gatewayTopology`, `proxyMetadata`, `interceptionMode`), JSON or YAML. */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
/** Pod annotation: how the sidecar intercepts inbound traffic (REDIRECT, TPROXY or NONE). */
export const INTERCEPTION_MODE_ANNOTATION = 'sidecar.istio.io/interceptionMode';
/** Pod label (and legacy annotation): "true" or "false" turns sidecar injection on or off for the pod. */
export const SIDECAR_INJECT_LABEL = 'sidecar.istio.io/inject';
/** Pod annotation: the injection templates; "gateway" makes the injected proxy a gateway. */
export const INJECT_TEMPLATES_ANNOTATION = 'inject.istio.io/templates';
/** The injection template of gateway pods. */
export const GATEWAY_INJECT_TEMPLATE = 'gateway';
/** Label of a namespace or pods: the Istio revision (control plane) that injects and configures them. */
export const REVISION_LABEL = 'istio.io/rev';

/** Istio protocols whose servers carry no HTTP (so no X-Forwarded-For): only the packet source or PROXY protocol. */
export const OPAQUE_PROTOCOLS = ['TCP', 'TLS', 'MONGO'];
/** Gateway TLS modes that pass the encrypted stream through (no HTTP either). */
export const PASSTHROUGH_TLS_MODES = ['PASSTHROUGH', 'AUTO_PASSTHROUGH'];

/**
 * The port a gateway pod listens on for a Service port: ports below 1024 map to `port + 8000`, as in Istio's Helm
 * chart (80 -> 8080, 443 -> 8443), others to themselves.
 */
export function gatewayListenerPort(servicePort: number): number {
  return servicePort < 1024 ? servicePort + 8000 : servicePort;
}
