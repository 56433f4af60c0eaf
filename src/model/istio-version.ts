import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { SourceIpWarnings } from '../util/warnings';

/** Context key that sets the Istio version for every construct in scope that is not told one itself. */
export const ISTIO_VERSION_CONTEXT_KEY = 'cdk8s-istio-source-ip:istioVersion';

const OLDEST_MINOR = 24;
const NEWEST_MINOR = 32;

/**
 * The oldest minor that Istio upstream still supports when the newest supported here, 1.32, is current: Istio
 * supports the three newest minors (1.30, 1.31, 1.32), each until about six weeks after the release two minors
 * later (https://istio.io/latest/docs/releases/supported-releases/#support-policy). Older releases are past
 * their end of life upstream: still synthesised here, with a warning (`IstioVersion.resolve`).
 */
const OLDEST_UPSTREAM_SUPPORTED_MINOR = 30;

/**
 * Every change between the supported Istio releases that the library follows, as data: the `IstioVersion`
 * getter that answers it (`property`), the first minor with the newer behaviour (`since`), what changed, where
 * upstream says so, and what the library does on each side. `test/model/version-gates.test.ts` synthesises every
 * gate on the last release without it and the first with it, and fails on a getter that changes between releases
 * without a row here.
 *
 * What Istio 1.32 changed was checked too and needs no gate (sources: the 1.32.0 CRDs of istio.io/api v1.32.0
 * against those of istio/istio master 86c9f01f, 2026-08-22; istio.io/api v1.32.0's protos, labels and annotations
 * against v1.31.0-rc.0.0.20260824154656-b943409680a7, the API of the 1.31 conformance pin; the release-note fragments
 * istio/istio master added after the release-1.31 branch point 71406cec, up to 86c9f01f; master's pilot/ at
 * 86c9f01f; the final 1.32 release notes are not in the sources this was checked against):
 * - CRDs against master: only DestinationRule `tls.caCertCredentialName` and
 *   `outlierDetection.failurePercentageThreshold` and Gateway/Sidecar server TLS `alpnProtocols` are new;
 *   EnvoyFilter contexts and operations, AuthorizationPolicy (`ipBlocks`, `remoteIpBlocks`), VirtualService, served
 *   and storage versions are unchanged. Against the 1.31 pin's API, also new: an EnvoyFilter filter-chain match on
 *   `transportSocket` and RequestAuthentication `jwtRules[].presence`; none of them is written or read here.
 * - Client address, PROXY protocol, X-Forwarded-For, `gatewayTopology`: no release note; no change after the 1.31
 *   branch point in pilot/pkg/networking touches `use_remote_address`, `xff_num_trusted_hops`, original IP detection,
 *   PROXY or `original_src`; the ProxyConfig `Topology` message and `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL`
 *   (pilot/pkg/features/experimental.go) are unchanged.
 * - Gateway API: master requires sigs.k8s.io/gateway-api v1.6.0, as 1.31 does; TCPRoute and TLSRoute are read at
 *   `v1` (pkg/config/schema/metadata.yaml) without PILOT_ENABLE_ALPHA_GATEWAY_API, as from 1.31.
 * - Ambient: the status of a DENY policy with only HTTP attributes on ztunnel now says it has no effect
 *   (release note 61126; this library refuses such policies on ambient workloads); ingress gateways no longer bypass
 *   waypoints for multi-network services (61092). istio.io/api's labels and annotations (`istio.io/dataplane-mode`,
 *   `istio.io/use-waypoint`, `istio.io/ingress-use-waypoint`, ...) are the same set as in the 1.31 pin's API.
 * - EnvoyFilter `match.proxy.proxyVersion` is limited to 1024 characters (release note
 *   envoyfilter-proxyversion-length, also in 1.30.4): `proxyVersionRegex` is far shorter.
 * - Envoy: istio/proxy master of 2026-08-22 (istio.deps `PROXY_REPO_SHA` 86a72d03) builds envoyproxy/envoy
 *   d026e913 of the same day; that Envoy's release notes were not among the sources, so the tracer keeps the
 *   defaults of Envoy 1.33 (no internal addresses) for 1.32, as for every release from 1.25.
 *
 * @internal
 */
export const ISTIO_VERSION_GATES: ReadonlyArray<{
  /** The `IstioVersion` getter that answers the gate. */
  readonly property: string;
  /** The first Istio minor with the newer behaviour. */
  readonly since: number;
  /** What changed in that release. */
  readonly change: string;
  /** Where upstream shows it. */
  readonly source: string;
  /** What the library does before and from that release. */
  readonly library: string;
}> = [
  {
    property: 'noInternalAddressesByDefault',
    since: 25,
    change: 'Envoy 1.33 treats no address as internal unless `internal_address_config` says so (Envoy 1.32 trusted private addresses)',
    source: 'Envoy 1.32.0 release notes ("logs warnings when internal_address_config is not set"); Istio 1.25 ships Envoy 1.33',
    library: 'explain: before, a private peer is internal and gets no X-Envoy-External-Address; from 1.25 it gets one',
  },
  {
    property: 'readsNamespaceIngressUseWaypoint',
    since: 25,
    change: 'istiod reads `istio.io/ingress-use-waypoint` on a Namespace, not only on a Service',
    source: 'istio/istio#54483 (first in the 1.25.0 tag); 1.24 reads it on Services only (pilot/pkg/serviceregistry/kube/controller/ambient/services.go)',
    library: 'AmbientNamespace refuses ingressUseWaypoint before 1.25 (ingress traffic would skip the waypoint and its policies)',
  },
  {
    property: 'supportsGatewayParametersRef',
    since: 26,
    change: 'istiod deploys a Gateway API gateway with the overlays of `spec.infrastructure.parametersRef` ConfigMaps',
    source: 'istio/istio pilot/pkg/config/kube/gateway deploymentcontroller.go reads parametersRef from release-1.26 (not in release-1.25)',
    library: 'flavour gateway-api is refused before 1.26 (no way to give the generated Service externalTrafficPolicy Local)',
  },
  {
    property: 'supportsPerClientRateLimit',
    since: 26,
    change: 'Envoy 1.34 gives a local rate-limit descriptor whose entry has no value a token bucket per value (dynamic descriptors, `max_dynamic_descriptors`)',
    source: 'Envoy 1.34.0 release notes (local_rate_limit: "Added support for dynamic token buckets in local rate limit filter for HTTP requests", envoyproxy/envoy#36623); Istio 1.26 ships Envoy 1.34 (istio/proxy release-1.26), Istio 1.25 Envoy 1.33',
    library: 'rateLimitPerClient() is refused before 1.26 (Envoy 1.33 would match no request to the wildcard descriptor, and istiod rejects the unknown max_dynamic_descriptors field)',
  },
  {
    property: 'supportsListenerFilterMerge',
    since: 27,
    change: 'EnvoyFilter `LISTENER_FILTER` patches may use MERGE',
    source: 'istio/istio#56486 "implement merge option for LISTENER_FILTER in EnvoyFilter" (release-1.27, not release-1.26)',
    library: 'not written: the library inserts listener filters (INSERT_FIRST), so no output depends on it',
  },
  {
    property: 'supportsStatusPortProxyProtocol',
    since: 27,
    change: 'pilot-agent lets the status port 15021 accept PROXY when `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL` is true',
    source: 'istio/istio pilot/pkg/features/experimental.go EnvoyStatusPortEnableProxyProtocol (from release-1.27, not in release-1.26)',
    library: 'from 1.27 the gateway gets the variable; before, a load balancer that sends PROXY on health checks needs a TCP check of the traffic port (refused without its annotations, warned when unknown)',
  },
  {
    property: 'supportsWaypointContext',
    since: 29,
    change: 'EnvoyFilter `match.context: WAYPOINT`',
    source: 'the EnvoyFilter CRD of istio/istio release-1.29 (manifests/charts/base/files/crd-all.gen.yaml: context enum; not in release-1.28)',
    library: 'not written: the library patches no waypoint with an EnvoyFilter (istiod applies no WAYPOINT-context patch as of master 2026-08-27: see src/policy/rate-limit-per-client.ts)',
  },
  {
    property: 'tlsRouteApiVersion',
    since: 30,
    change: 'istiod reads TLSRoute at `gateway.networking.k8s.io/v1`',
    source: 'istio/istio pkg/config/schema/metadata.yaml (release-1.30: TLSRoute version v1, alias v1alpha2; release-1.29: v1alpha2)',
    library: 'TLSRoutes are written at v1alpha2 before 1.30 and at v1 from 1.30',
  },
  {
    property: 'tlsRouteWithoutAlphaFlag',
    since: 30,
    change: 'istiod reads TLSRoute without `PILOT_ENABLE_ALPHA_GATEWAY_API`',
    source: 'istio/istio pkg/config/schema/collections/collections.gen.go (release-1.30: TLSRoute in pilotStableGatewayAPI); extras.go PilotGatewayAPI()',
    library: 'before 1.30 addTlsRoute on a Gateway API gateway warns that the route is ignored without the flag',
  },
  {
    property: 'tcpRouteApiVersion',
    since: 31,
    change: 'istiod reads TCPRoute at `gateway.networking.k8s.io/v1` (Gateway API v1.6)',
    source: 'istio/istio#60766 "TCPRoute v1 upgrade"; pkg/config/schema/metadata.yaml (release-1.31: version v1, alias v1alpha2)',
    library: 'TCPRoutes are written at v1alpha2 before 1.31 and at v1 from 1.31',
  },
  {
    property: 'gatewayApiTcpWithoutAlphaFlag',
    since: 31,
    change: 'Gateway API TCP listeners and TCPRoutes are served without istiod\'s PILOT_ENABLE_ALPHA_GATEWAY_API',
    source: 'istio/istio#60766; pilot/pkg/config/kube/gateway/conversion.go listenerProtocolToIstio and controller.go (release-1.30: TCP only with the flag; release-1.31: always)',
    library: 'before 1.31 a Gateway API gateway with a TCP server is written with a warning naming the flag; from 1.31 without',
  },
  {
    property: 'supportsMergeAndReplaceList',
    since: 31,
    change: 'EnvoyFilter patch operation `MERGE_AND_REPLACE_LIST`',
    source: 'Istio 1.31.0 change notes; the EnvoyFilter CRD of 1.31 (crd-all.gen.yaml: operation enum)',
    library: 'not written: the library merges with MERGE only',
  },
  {
    property: 'supportedUpstream',
    since: OLDEST_UPSTREAM_SUPPORTED_MINOR,
    change: 'Istio upstream supports the three newest minors (1.30, 1.31, 1.32 while 1.32 is the newest)',
    source: 'https://istio.io/latest/docs/releases/supported-releases/#support-policy',
    library: 'releases past their end of life upstream are still synthesised, with a warning naming their status',
  },
];

const GATE_SINCE = new Map(ISTIO_VERSION_GATES.map(g => [g.property, g.since]));

/** The first minor of a gate of `ISTIO_VERSION_GATES`. */
function since(property: string): number {
  const minor = GATE_SINCE.get(property);
  if (minor === undefined) throw new Error(`no Istio version gate "${property}"`);
  return minor;
}

/**
 * The Istio release the synthesised manifests are meant for. It decides API versions and which
 * version-gated features may be used; every construct takes it as `istioVersion`.
 *
 * Supported: 1.24 to 1.32. The default everywhere is `IstioVersion.LATEST`. Releases before 1.30 are past their
 * end of life upstream: they are still synthesised, with a warning (`SourceIpWarnings`).
 */
export class IstioVersion {
  /** Istio 1.24 (Envoy 1.32). Past its end of life upstream. */
  public static readonly V1_24 = new IstioVersion(24);
  /** Istio 1.25 (Envoy 1.33: no address is internal by default). Past its end of life upstream. */
  public static readonly V1_25 = new IstioVersion(25);
  /** Istio 1.26 (Envoy 1.34: per-value local rate limits; Gateway API `parametersRef`, `credentialNames`). Past its end of life upstream. */
  public static readonly V1_26 = new IstioVersion(26);
  /** Istio 1.27 (`LISTENER_FILTER` MERGE, `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL`). Past its end of life upstream. */
  public static readonly V1_27 = new IstioVersion(27);
  /** Istio 1.28 (`caCertCredentialName`). Past its end of life upstream. */
  public static readonly V1_28 = new IstioVersion(28);
  /** Istio 1.29 (EnvoyFilter `WAYPOINT` context). Past its end of life upstream. */
  public static readonly V1_29 = new IstioVersion(29);
  /** Istio 1.30 (Gateway API TLSRoute v1). */
  public static readonly V1_30 = new IstioVersion(30);
  /** Istio 1.31 (EnvoyFilter `MERGE_AND_REPLACE_LIST`, Gateway API TCPRoute v1 and TCP without the alpha flag). */
  public static readonly V1_31 = new IstioVersion(31);
  /** Istio 1.32 (nothing the library writes or reads changed: see `ISTIO_VERSION_GATES`). */
  public static readonly V1_32 = new IstioVersion(32);
  /** The newest supported release, the default of every construct. */
  public static readonly LATEST = IstioVersion.V1_32;
  /** The oldest supported release. */
  public static readonly OLDEST = IstioVersion.V1_24;

  /** Every supported release, oldest first. */
  public static all(): IstioVersion[] {
    return [IstioVersion.V1_24, IstioVersion.V1_25, IstioVersion.V1_26, IstioVersion.V1_27,
      IstioVersion.V1_28, IstioVersion.V1_29, IstioVersion.V1_30, IstioVersion.V1_31, IstioVersion.V1_32];
  }

  /**
   * Parses "1.27" or "1.27.3".
   *
   * @param version an Istio release between 1.24 and 1.32
   */
  public static of(version: string): IstioVersion {
    const m = /^1\.(\d+)(\.\d+)?(-[0-9A-Za-z.-]+)?$/.exec(String(version).trim());
    const minor = m ? Number(m[1]) : NaN;
    if (!(minor >= OLDEST_MINOR && minor <= NEWEST_MINOR)) {
      throw new Error(`istioVersion "${version}" is not supported: use a release from 1.${OLDEST_MINOR} to 1.${NEWEST_MINOR}, for example IstioVersion.of('1.${NEWEST_MINOR}') or IstioVersion.LATEST`);
    }
    return IstioVersion.all()[minor - OLDEST_MINOR];
  }

  /**
   * The version a construct uses: its own prop, else the context value `cdk8s-istio-source-ip:istioVersion`
   * of its scope, else `IstioVersion.LATEST`. A release past its end of life upstream is still used, and
   * recorded once per chart as a warning (`SourceIpWarnings`) that names its upstream status.
   */
  public static resolve(scope: IConstruct, explicit?: IstioVersion): IstioVersion {
    const version = IstioVersion.chosen(scope, explicit);
    if (!version.supportedUpstream) warnPastEndOfLife(scope, version);
    return version;
  }

  private static chosen(scope: IConstruct, explicit?: IstioVersion): IstioVersion {
    if (explicit) return explicit;
    const fromContext = scope.node.tryGetContext(ISTIO_VERSION_CONTEXT_KEY);
    if (fromContext === undefined) return IstioVersion.LATEST;
    return fromContext instanceof IstioVersion ? fromContext : IstioVersion.of(String(fromContext));
  }

  private constructor(
    /** The minor release number, e.g. 27 for Istio 1.27. */
    public readonly minor: number) {
  }

  /** "1.27". */
  public get label(): string {
    return `1.${this.minor}`;
  }

  /**
   * True while Istio upstream supports this release (the three newest minors: 1.30 to 1.32); older releases are
   * past their end of life upstream, still synthesised here with a warning.
   */
  public get supportedUpstream(): boolean {
    return this.minor >= since('supportedUpstream');
  }

  /** True when this release is 1.`minor` or newer. */
  public isAtLeast(minor: number): boolean {
    return this.minor >= minor;
  }

  /** `networking.istio.io` version for Gateway, VirtualService, DestinationRule (v1 is served from 1.22). */
  public get networkingApiVersion(): string {
    return 'networking.istio.io/v1';
  }

  /** `security.istio.io` version for AuthorizationPolicy (v1 is served in every supported release). */
  public get securityApiVersion(): string {
    return 'security.istio.io/v1';
  }

  /** EnvoyFilter exists only as v1alpha3. */
  public get envoyFilterApiVersion(): string {
    return 'networking.istio.io/v1alpha3';
  }

  /**
   * Envoy's local rate limit keeps a token bucket per descriptor value (dynamic descriptors, `max_dynamic_descriptors`:
   * Envoy 1.34, Istio 1.26+), so one EnvoyFilter can limit each client address on its own.
   */
  public get supportsPerClientRateLimit(): boolean {
    return this.minor >= since('supportsPerClientRateLimit');
  }

  /** `LISTENER_FILTER` patches may use MERGE (1.27+). */
  public get supportsListenerFilterMerge(): boolean {
    return this.minor >= since('supportsListenerFilterMerge');
  }

  /** pilot-agent honours `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL` on the status port 15021 (1.27+). */
  public get supportsStatusPortProxyProtocol(): boolean {
    return this.minor >= since('supportsStatusPortProxyProtocol');
  }

  /** EnvoyFilter `match.context: WAYPOINT` (1.29+). */
  public get supportsWaypointContext(): boolean {
    return this.minor >= since('supportsWaypointContext');
  }

  /** EnvoyFilter `MERGE_AND_REPLACE_LIST` (1.31+). */
  public get supportsMergeAndReplaceList(): boolean {
    return this.minor >= since('supportsMergeAndReplaceList');
  }

  /** Envoy treats no address as internal unless configured (Envoy 1.33, Istio 1.25+). */
  public get noInternalAddressesByDefault(): boolean {
    return this.minor >= since('noInternalAddressesByDefault');
  }

  /**
   * Istio deploys a Gateway API gateway with the `deployment`, `service`, `podDisruptionBudget` and
   * `horizontalPodAutoscaler` overlays of a `spec.infrastructure.parametersRef` ConfigMap (1.26+).
   */
  public get supportsGatewayParametersRef(): boolean {
    return this.minor >= since('supportsGatewayParametersRef');
  }

  /** The Gateway API TCPRoute version istiod reads: `v1alpha2`, `v1` from 1.31. */
  public get tcpRouteApiVersion(): string {
    return this.minor >= since('tcpRouteApiVersion') ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2';
  }

  /**
   * istiod serves Gateway API TCP listeners and TCPRoutes without `PILOT_ENABLE_ALPHA_GATEWAY_API=true` (1.31+;
   * before, it ignores both unless the flag is set).
   */
  public get gatewayApiTcpWithoutAlphaFlag(): boolean {
    return this.minor >= since('gatewayApiTcpWithoutAlphaFlag');
  }

  /** The Gateway API TLSRoute version istiod reads: `v1alpha2`, `v1` from 1.30. */
  public get tlsRouteApiVersion(): string {
    return this.minor >= since('tlsRouteApiVersion') ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2';
  }

  /**
   * istiod reads `istio.io/ingress-use-waypoint` on a Namespace, not only on a Service (1.25+: istio/istio#54483,
   * "ambient: support istio.io/ingress-use-waypoint at the namespace level", first in the 1.25.0 tag; 1.24 reads it
   * on Services only, pilot/pkg/serviceregistry/kube/controller/ambient/services.go).
   */
  public get readsNamespaceIngressUseWaypoint(): boolean {
    return this.minor >= since('readsNamespaceIngressUseWaypoint');
  }

  /**
   * istiod reads TLSRoute without `PILOT_ENABLE_ALPHA_GATEWAY_API=true` (1.30+: `pilotStableGatewayAPI` in
   * pkg/config/schema/collections/collections.gen.go lists TLSRoute from 1.30; `PilotGatewayAPI()` in extras.go adds
   * the alpha kinds only with the flag).
   */
  public get tlsRouteWithoutAlphaFlag(): boolean {
    return this.minor >= since('tlsRouteWithoutAlphaFlag');
  }

  /** A regular expression for EnvoyFilter `match.proxy.proxyVersion` that matches this release only. */
  public get proxyVersionRegex(): string {
    return `^1\\.${this.minor}.*`;
  }

  public toString(): string {
    return this.label;
  }
}

/**
 * Records, once per chart (or on the root outside charts), that `version` is past its end of life upstream. The
 * warning names the upstream status and what the library still does for it.
 */
function warnPastEndOfLife(scope: IConstruct, version: IstioVersion): void {
  const scopes = scope.node.scopes;
  const chart = [...scopes].reverse().find(s => Chart.isChart(s)) ?? scopes[0];
  SourceIpWarnings.add(chart, `istioVersion ${version.label} is past its end of life upstream (Istio supports 1.${OLDEST_UPSTREAM_SUPPORTED_MINOR} to 1.${NEWEST_MINOR} `
    + `and publishes no fixes for ${version.label}): the output is still synthesised and checked against that release's CRD schemas; `
    + `upgrade the cluster to Istio 1.${OLDEST_UPSTREAM_SUPPORTED_MINOR} or newer and set istioVersion to match`);
}
