import { IConstruct } from 'constructs';

/*
 * The one model the constructs, their checks and `explain` share: plain readonly data that says what each
 * proxy does with the client address. Constructs build it from props and render it; `explain` parses
 * manifests back into it; checks and traces read only this.
 */

/** Kubernetes `Service.spec.externalTrafficPolicy`. */
export enum ExternalTrafficPolicy {
  /** Traffic only goes to pods on the receiving node; the packet source (client IP) is kept. */
  LOCAL = 'Local',
  /** Traffic may hop to another node; kube-proxy SNATs it, so the gateway sees a node IP. */
  CLUSTER = 'Cluster',
}

/** `sidecar.istio.io/interceptionMode`, exact and case-sensitive. */
export enum InterceptionMode {
  /** iptables REDIRECT (Istio's default): the app sees 127.0.0.6 as its peer. */
  REDIRECT = 'REDIRECT',
  /** iptables TPROXY with `original_src`: the app sees the immediate peer's real IP. */
  TPROXY = 'TPROXY',
  /** No inbound interception. */
  NONE = 'NONE',
}

/** Which proxy enforces a policy or resolves a client address. */
export enum ProxyRole {
  /** An Istio ingress gateway (Envoy with `use_remote_address: true`). */
  GATEWAY = 'gateway',
  /** A sidecar's inbound listener (`use_remote_address: false`). */
  SIDECAR = 'sidecar',
  /** An ambient-mode workload behind ztunnel (L4 only). */
  AMBIENT = 'ambient',
  /**
   * An ambient waypoint (Envoy with `use_remote_address: false`): `remote.ip` is the rightmost X-Forwarded-For
   * entry, `source.ip` the peer ztunnel restored.
   */
  WAYPOINT = 'waypoint',
}

/** Which traffic a waypoint handles: its `istio.io/waypoint-for` label. */
export enum WaypointFor {
  /** Traffic addressed to Services that use it (Istio's default). */
  SERVICE = 'service',
  /** Traffic addressed to pod IPs of workloads that use it. */
  WORKLOAD = 'workload',
  /** Both. */
  ALL = 'all',
  /** Neither: the waypoint handles no traffic. */
  NONE = 'none',
}

/** An ambient waypoint: a Gateway API Gateway of class `istio-waypoint`. */
export interface WaypointModel {
  /** Name of the Gateway. */
  readonly name: string;
  /** Namespace of the Gateway. */
  readonly namespace: string;
  /** Which traffic it handles. */
  readonly waypointFor: WaypointFor;
}

/** A Gateway API policy attachment (`targetRefs` entry) of an Istio policy. */
export interface PolicyTargetRef {
  /** API group of the target, e.g. `gateway.networking.k8s.io`, or "" for core kinds such as Service. */
  readonly group: string;
  /** Kind of the target: Gateway, GatewayClass, Service or ServiceEntry. */
  readonly kind: string;
  /** Name of the target, in the policy's namespace. */
  readonly name: string;
}

/** How PROXY protocol is accepted on a gateway. */
export enum ProxyProtocolMode {
  /** Not accepted. */
  OFF = 'off',
  /** Required on every non-QUIC listener (Istio's native `gatewayTopology.proxyProtocol: {}`). */
  STRICT = 'strict',
  /** Accepted when present, on the listed ports or all (EnvoyFilter with `allow_requests_without_proxy_protocol`). */
  OPTIONAL = 'optional',
  /** Required, but only on the listed ports (EnvoyFilter `LISTENER_FILTER` per port). */
  STRICT_PER_PORT = 'strict-per-port',
}

/** PROXY protocol version. */
export enum ProxyProtocolVersion {
  /** Human-readable text header. */
  V1 = 'V1',
  /** Binary header (the only version some load balancers, e.g. Tencent CLB, send). */
  V2 = 'V2',
}

/** A server (listener) of an Istio Gateway, as far as the client address is concerned. */
export interface ServerModel {
  /** Gateway server port number (the Service port). */
  readonly port: number;
  /** Istio protocol name: HTTP, HTTPS, HTTP2, GRPC, TCP, TLS. */
  readonly protocol: string;
  /** Hosts the server accepts. */
  readonly hosts: string[];
  /** TLS mode for HTTPS and TLS servers (SIMPLE, MUTUAL, PASSTHROUGH, ...). @default - no TLS */
  readonly tlsMode?: string;
  /**
   * The gateway pod's listener port for this server (the Service targetPort). Istio matches policy `ports` and
   * EnvoyFilter `portNumber` on gateways against it, not against the Service port.
   * @default - the same as `port`
   */
  readonly targetPort?: number;
}

/** What an ingress gateway does with the client address. */
export interface GatewayModel {
  /** Name of the gateway workload (Deployment or existing installation). */
  readonly name: string;
  /** Namespace of the gateway workload. */
  readonly namespace: string;
  /** Pod labels that select the gateway workload. */
  readonly selector: { [key: string]: string };
  /** The Service's external traffic policy. */
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  /**
   * True when the load balancer delivers the client address as the packet source regardless of the
   * external traffic policy (for example AWS NLB ip targets, Tencent direct access).
   */
  readonly loadBalancerPreservesSource: boolean;
  /** `gatewayTopology.numTrustedProxies`: how many XFF-appending hops in front are trusted. */
  readonly numTrustedProxies: number;
  /** How PROXY protocol is accepted. */
  readonly proxyProtocol: ProxyProtocolMode;
  /**
   * Service (server) ports PROXY protocol applies to in the OPTIONAL and STRICT_PER_PORT modes, ascending; empty in
   * the STRICT mode (every listener) and without PROXY.
   */
  readonly proxyProtocolPorts: number[];
  /** Servers of the Istio Gateway resources bound to this gateway. */
  readonly servers: ServerModel[];
  /** Kubernetes Service name in front of the gateway pods, when known. @default - unknown */
  readonly serviceName?: string;
  /**
   * The request header (lower case) the gateway writes the client it resolved into, overwriting any incoming copy
   * (`clientAddressHeader()`).
   * @default - none
   */
  readonly clientAddressHeader?: string;
}

/** How a sidecar's inbound HTTP connection manager resolves the client from X-Forwarded-For. */
export enum SidecarXffMode {
  /** Istio's default: `use_remote_address: false`, no trusted hops: the rightmost XFF entry. */
  DEFAULT = 'default',
  /** `use_remote_address: true`: the socket peer is the client and is appended to XFF. */
  USE_REMOTE_ADDRESS = 'use-remote-address',
  /** `xff_num_trusted_hops: N` with `use_remote_address: false`. */
  TRUSTED_HOPS = 'trusted-hops',
  /** The `envoy.http.original_ip_detection.xff` extension with `xff_trusted_cidrs`. */
  TRUSTED_CIDRS = 'trusted-cidrs',
  /**
   * The `envoy.http.original_ip_detection.custom_header` extension: the client is the address in one request header
   * set by a CDN (CF-Connecting-IP, True-Client-IP, ...); requests without it are rejected unless configured otherwise.
   */
  CUSTOM_HEADER = 'custom-header',
}

/** What a meshed workload (its sidecar and app) does with the client address. */
export interface WorkloadModel {
  /** Workload name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Pod labels that select it. */
  readonly selector: { [key: string]: string };
  /** Sidecar, or ambient. */
  readonly role: ProxyRole;
  /** Inbound interception mode of the sidecar. */
  readonly interceptionMode: InterceptionMode;
  /** How the sidecar resolves the client from XFF. */
  readonly xffMode: SidecarXffMode;
  /** `xff_num_trusted_hops` for TRUSTED_HOPS. @default 0 */
  readonly xffTrustedHops?: number;
  /** Trusted CIDRs for TRUSTED_CIDRS. @default - none */
  readonly xffTrustedCidrs?: string[];
  /** The request header the client is read from, for CUSTOM_HEADER (lower case). @default - none */
  readonly clientHeaderName?: string;
  /**
   * The status the sidecar answers when that header is missing or not an IP address, for CUSTOM_HEADER.
   * @default - no rejection: the socket peer becomes the client
   */
  readonly clientHeaderRejectStatus?: number;
  /**
   * True when the user acknowledged that nothing reaches the gateway but through the CDN whose header the sidecar
   * reads (CUSTOM_HEADER, `onlyReachableThroughCdn`): a client cannot skip the CDN.
   * @default false
   */
  readonly onlyReachableThroughCdn?: boolean;
  /** Pod ports the XFF settings apply to; empty means every inbound port. @default - all ports */
  readonly xffPorts?: number[];
  /** Pod ports where the sidecar accepts PROXY protocol from its caller. @default - none */
  readonly proxyProtocolPorts?: number[];
  /**
   * True when the sidecar strips PROXY protocol on every inbound port (a SIDECAR_INBOUND listener filter: the
   * sidecar has one inbound listener for all pod ports).
   * @default false
   */
  readonly proxyProtocolOnEveryPort?: boolean;
  /**
   * The waypoint (`namespace/name`) the ambient workload's traffic goes through (`istio.io/use-waypoint` on its
   * Service, namespace or pods).
   * @default - none
   */
  readonly waypoint?: string;
  /**
   * True when traffic from ingress gateways also goes through the waypoint (`istio.io/ingress-use-waypoint: "true"`);
   * without it only mesh traffic does.
   * @default false
   */
  readonly ingressUseWaypoint?: boolean;
  /**
   * The request header (lower case) the sidecar writes the client it resolved into, overwriting any incoming copy
   * (`clientAddressHeader()`).
   * @default - none
   */
  readonly clientAddressHeader?: string;
}

/** Which proxies an `XffSidecarFilter` changes. */
export enum XffFilterScope {
  /** The pods matching `selector` in the filter's namespace (the default, and the only safe choice). */
  WORKLOAD = 'workload',
  /** Every sidecar in the filter's namespace: no `workloadSelector`. */
  NAMESPACE = 'namespace',
  /** Every sidecar in the mesh: no `workloadSelector`, in the root namespace (`rootNamespace`). */
  MESH = 'mesh',
}

/** Policy action. */
export enum PolicyAction {
  /** Allow requests that match; deny the rest (when any ALLOW policy selects the proxy). */
  ALLOW = 'ALLOW',
  /** Deny requests that match. */
  DENY = 'DENY',
}

/** Which client address a policy matches on. */
export enum ClientIpField {
  /** `source.ipBlocks`: the direct peer of the proxy (Envoy `direct_remote_ip`). */
  IP_BLOCKS = 'ipBlocks',
  /** `source.remoteIpBlocks`: the client resolved from XFF or PROXY protocol (Envoy `remote_ip`). */
  REMOTE_IP_BLOCKS = 'remoteIpBlocks',
}

/** A `targetRefs` entry of a policy: the object (a Gateway API Gateway, a waypoint's Service, ...) it attaches to. */
export interface PolicyTargetRef {
  /** API group of the target, e.g. "gateway.networking.k8s.io". */
  readonly group: string;
  /** Kind of the target, e.g. "Gateway". */
  readonly kind: string;
  /** Name of the target, in the policy's namespace. */
  readonly name: string;
}

/** An AuthorizationPolicy rule on client addresses. */
export interface PolicyModel {
  /** Policy name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /**
   * Workload selector labels; for a policy attached with `targetRefs`, the labels of the pods it reaches (a Gateway
   * API Gateway's pods carry `gateway.networking.k8s.io/gateway-name`), and empty for a waypoint's policies.
   */
  readonly selector: { [key: string]: string };
  /**
   * Gateway API attachment: the policy applies to these Gateways (waypoints, Gateway API gateways) or to the
   * waypoints of these Services, not to the pods a selector picks.
   * @default - none: the selector picks the pods
   */
  readonly targetRefs?: PolicyTargetRef[];
  /** ALLOW or DENY. */
  readonly action: PolicyAction;
  /** The field the CIDRs are matched against. */
  readonly field: ClientIpField;
  /** True for `notIpBlocks` / `notRemoteIpBlocks`. */
  readonly negated: boolean;
  /** Normalised CIDRs. */
  readonly cidrs: string[];
  /**
   * `to.operation.ports` of the rule, as rendered (on a gateway, the ports its Envoy listens on).
   * @default - every port
   */
  readonly ports?: number[];
  /**
   * True when the rule also matches HTTP attributes (`paths`, `methods`).
   * @default false
   */
  readonly matchesHttpAttributes?: boolean;
}

/** Anything that can be the target of a source-IP policy: a gateway or a meshed workload. */
export interface ISourceIpTarget extends IConstruct {
  /** Namespace of the target's pods. */
  readonly targetNamespace: string;
  /** Pod labels that select the target. */
  readonly targetSelector: { [key: string]: string };
  /** The proxy that enforces policies for this target. */
  readonly targetRole: ProxyRole;
  /**
   * What policies attach to with `targetRefs` instead of a selector: a Gateway API gateway, a waypoint, or a Service
   * through its waypoint.
   * @default - policies select the target's pods with `targetSelector`
   */
  readonly policyTargetRefs?: PolicyTargetRef[];
  /** The gateway model, for gateways (read at synth time, after every `addX()` call). @default - not a gateway @internal */
  _gatewayModel(): GatewayModel | undefined;
  /** The workload model, for meshed workloads (read at synth time). @default - not a workload @internal */
  _workloadModel(): WorkloadModel | undefined;
}
