/*
 * The library's own annotations: what a construct knows but Kubernetes and Istio objects cannot show, written
 * into the output so that `explain` (and the round-trip test) read the same topology the constructs built.
 * Internal: the keys are documented in docs/explain.md.
 */

/** Prefix of every annotation of this library. */
export const ANNOTATION_PREFIX = 'source-ip.cdk8s.io/';

/** On a gateway Service (or pod template): the hops in front, as `TrustChain.toAnnotationValue()`. */
export const TRUST_CHAIN_ANNOTATION = `${ANNOTATION_PREFIX}trust-chain`;

/**
 * On a gateway Service: the load balancer sends PROXY protocol although no cloud annotation says so (it is
 * switched on in a console, a cloud CRD, or per listener). The value is the version, "V1" or "V2", or "true".
 */
export const LB_PROXY_PROTOCOL_ANNOTATION = `${ANNOTATION_PREFIX}load-balancer-proxy-protocol`;

/**
 * On a gateway Service: how the load balancer's health checks get past PROXY protocol (a `HealthCheckFix` value), as
 * the `proxyProtocolSupport` given to the construct declares it. The construct has rendered what that takes (the
 * status-port variable or the declared health-check annotations), so `explain` takes it instead of the load-balancer
 * table's facts, which a declaration may differ from.
 */
export const HEALTH_CHECK_FIX_ANNOTATION = `${ANNOTATION_PREFIX}health-check-fix`;

/**
 * On a gateway Service (or, in attach mode, the Istio Gateway): "true" when the load balancer delivers the client
 * as the packet source whatever the traffic policy, "false" when it does not, where no annotation the
 * load-balancer table recognises says so (a custom profile, attach mode).
 */
export const LB_PRESERVES_SOURCE_ANNOTATION = `${ANNOTATION_PREFIX}load-balancer-preserves-source`;

/**
 * On a gateway Service (attach mode: the Istio Gateway): "true" when the user chose `externalTrafficPolicy: Cluster`
 * knowing that the gateway then sees a node address (a demonstration, a gateway whose client address is not needed):
 * the trace reports the lost client as a WARNING instead of an ERROR.
 */
export const NODE_ADDRESS_ACCEPTED_ANNOTATION = `${ANNOTATION_PREFIX}node-address-accepted`;

/**
 * On an Istio Gateway attached to an existing installation: `namespace/name` of the installation's Service, whose
 * partial (server-side apply) copy has no selector.
 */
export const GATEWAY_SERVICE_ANNOTATION = `${ANNOTATION_PREFIX}gateway-service`;

/**
 * On an Istio Gateway attached to an existing installation: the `gatewayTopology` (JSON) the installation's pods
 * are told to run with (attach mode cannot change them; a warning asks the user to).
 */
export const EXPECTED_TOPOLOGY_ANNOTATION = `${ANNOTATION_PREFIX}expected-gateway-topology`;

/**
 * On an EnvoyFilter that reads the client from a CDN's header: the user acknowledged that nothing reaches the gateway
 * but through the CDN (`onlyReachableThroughCdn`), which the objects cannot show (a private origin, a load balancer
 * that admits only the CDN).
 */
export const ONLY_THROUGH_CDN_ANNOTATION = `${ANNOTATION_PREFIX}only-reachable-through-cdn`;

/** On an EnvoyFilter in the mesh's root namespace: that namespace is `meshConfig.rootNamespace`. */
export const ROOT_NAMESPACE_ANNOTATION = `${ANNOTATION_PREFIX}root-namespace`;

/** On an Istio Gateway: the Istio release the output is for (explain follows its Envoy defaults). */
export const ISTIO_VERSION_ANNOTATION = `${ANNOTATION_PREFIX}istio-version`;

/**
 * istio-proxy environment variable: pilot-agent adds a PROXY listener filter (PROXY optional) to the status port 15021
 * when it is true (Istio 1.27+). It is read from the container's environment when the agent starts.
 */
export const STATUS_PORT_PROXY_PROTOCOL_ENV = 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL';
