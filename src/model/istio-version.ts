import { IConstruct } from 'constructs';

/** Context key that sets the Istio version for every construct in scope that is not told one itself. */
export const ISTIO_VERSION_CONTEXT_KEY = 'cdk8s-istio-source-ip:istioVersion';

const OLDEST_MINOR = 24;
const NEWEST_MINOR = 31;

/**
 * The Istio release the synthesised manifests are meant for. It decides API versions and which
 * version-gated features may be used; every construct takes it as `istioVersion`.
 *
 * Supported: 1.24 to 1.31. The default everywhere is `IstioVersion.LATEST`.
 */
export class IstioVersion {
  /** Istio 1.24 (Envoy 1.32). */
  public static readonly V1_24 = new IstioVersion(24);
  /** Istio 1.25 (Envoy 1.33: no address is internal by default). */
  public static readonly V1_25 = new IstioVersion(25);
  /** Istio 1.26 (Gateway API `parametersRef`, `credentialNames`). */
  public static readonly V1_26 = new IstioVersion(26);
  /** Istio 1.27 (`LISTENER_FILTER` MERGE, `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL`). */
  public static readonly V1_27 = new IstioVersion(27);
  /** Istio 1.28 (`caCertCredentialName`). */
  public static readonly V1_28 = new IstioVersion(28);
  /** Istio 1.29 (EnvoyFilter `WAYPOINT` context). */
  public static readonly V1_29 = new IstioVersion(29);
  /** Istio 1.30 (Gateway API TLSRoute v1). */
  public static readonly V1_30 = new IstioVersion(30);
  /** Istio 1.31 (EnvoyFilter `MERGE_AND_REPLACE_LIST`, Gateway API TCPRoute v1). */
  public static readonly V1_31 = new IstioVersion(31);
  /** The newest supported release, the default of every construct. */
  public static readonly LATEST = IstioVersion.V1_31;
  /** The oldest supported release. */
  public static readonly OLDEST = IstioVersion.V1_24;

  /** Every supported release, oldest first. */
  public static all(): IstioVersion[] {
    return [IstioVersion.V1_24, IstioVersion.V1_25, IstioVersion.V1_26, IstioVersion.V1_27,
      IstioVersion.V1_28, IstioVersion.V1_29, IstioVersion.V1_30, IstioVersion.V1_31];
  }

  /**
   * Parses "1.27" or "1.27.3".
   *
   * @param version an Istio release between 1.24 and 1.31
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
   * of its scope, else `IstioVersion.LATEST`.
   */
  public static resolve(scope: IConstruct, explicit?: IstioVersion): IstioVersion {
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

  /** `LISTENER_FILTER` patches may use MERGE (1.27+). */
  public get supportsListenerFilterMerge(): boolean {
    return this.isAtLeast(27);
  }

  /** pilot-agent honours `ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL` on the status port 15021 (1.27+). */
  public get supportsStatusPortProxyProtocol(): boolean {
    return this.isAtLeast(27);
  }

  /** EnvoyFilter `match.context: WAYPOINT` (1.29+). */
  public get supportsWaypointContext(): boolean {
    return this.isAtLeast(29);
  }

  /** EnvoyFilter `MERGE_AND_REPLACE_LIST` (1.31+). */
  public get supportsMergeAndReplaceList(): boolean {
    return this.isAtLeast(31);
  }

  /** Envoy treats no address as internal unless configured (Envoy 1.33, Istio 1.25+). */
  public get noInternalAddressesByDefault(): boolean {
    return this.isAtLeast(25);
  }

  /**
   * Istio deploys a Gateway API gateway with the `deployment`, `service`, `podDisruptionBudget` and
   * `horizontalPodAutoscaler` overlays of a `spec.infrastructure.parametersRef` ConfigMap (1.26+).
   */
  public get supportsGatewayParametersRef(): boolean {
    return this.isAtLeast(26);
  }

  /** The Gateway API TCPRoute version istiod reads: `v1alpha2`, `v1` from 1.31. */
  public get tcpRouteApiVersion(): string {
    return this.isAtLeast(31) ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2';
  }

  /** The Gateway API TLSRoute version istiod reads: `v1alpha2`, `v1` from 1.30. */
  public get tlsRouteApiVersion(): string {
    return this.isAtLeast(30) ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2';
  }

  /**
   * istiod reads `istio.io/ingress-use-waypoint` on a Namespace, not only on a Service (1.25+: istio/istio#54483,
   * "ambient: support istio.io/ingress-use-waypoint at the namespace level", first in the 1.25.0 tag; 1.24 reads it
   * on Services only, pilot/pkg/serviceregistry/kube/controller/ambient/services.go).
   */
  public get readsNamespaceIngressUseWaypoint(): boolean {
    return this.isAtLeast(25);
  }

  /**
   * istiod reads TCPRoute only with `PILOT_ENABLE_ALPHA_GATEWAY_API=true` before 1.31: `pilotStableGatewayAPI`
   * (pkg/config/schema/collections/collections.gen.go) lists TCPRoute from 1.31, `PilotGatewayAPI()` (extras.go)
   * adds the alpha kinds only with the flag.
   */
  public get tcpRouteNeedsAlphaGatewayApi(): boolean {
    return !this.isAtLeast(31);
  }

  /** istiod reads TLSRoute only with `PILOT_ENABLE_ALPHA_GATEWAY_API=true` before 1.30 (stable collections list it from 1.30). */
  public get tlsRouteNeedsAlphaGatewayApi(): boolean {
    return !this.isAtLeast(30);
  }

  /** A regular expression for EnvoyFilter `match.proxy.proxyVersion` that matches this release only. */
  public get proxyVersionRegex(): string {
    return `^1\\.${this.minor}.*`;
  }

  public toString(): string {
    return this.label;
  }
}
