import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { resolveSharedGatewayProps } from './gateway-config';
import { IngressGatewayBase, IngressGatewayConfig, TcpRouteOptions, TlsRouteOptions } from './ingress-gateway-base';
import { IngressGatewayProps } from './ingress-gateway-props';
import { LoadBalancerProfile } from './load-balancer-profile';
import { ProxyProtocolBackend, ProxyProtocolBackendProps } from './proxy-protocol-backend';
import { ProxyProtocolListenerFilter } from './proxy-protocol-listener-filter';
import { ProxyProtocolSupport } from './proxy-protocol-support';
import { HEALTH_CHECK_FIX_ANNOTATION, LB_PROXY_PROTOCOL_ANNOTATION, STATUS_PORT_PROXY_PROTOCOL_ENV } from '../model/annotations';
import { findingText } from '../model/finding-text';
import { checkGatewayPorts } from '../model/gateway-checks';
import { HealthCheckFix } from '../model/health-check-fix';
import { IstioVersion } from '../model/istio-version';
import { recogniseLoadBalancer } from '../model/load-balancers';
import { ExternalTrafficPolicy, ProxyProtocolMode, ProxyProtocolVersion } from '../model/model';
import { Topology } from '../model/topology';
import { checkPort, constructPathOf, resolveWithPath, withConstructPath } from '../util/validate';


/** Props of `ProxyProtocolGateway`. */
export interface ProxyProtocolGatewayProps extends IngressGatewayProps {
  /**
   * What PROXY the load balancer can send and the Service annotations that switch it on, for a load balancer
   * the library has no facts for (for example `ProxyProtocolSupport.custom('do-lb', { versions: [V1, V2],
   * serviceAnnotations: { 'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol': 'true' } })`).
   *
   * @default - `ProxyProtocolSupport.forProfile(loadBalancerProfile)`
   */
  readonly proxyProtocolSupport?: ProxyProtocolSupport;

  /**
   * How the gateway accepts PROXY protocol. STRICT uses Istio's native `gatewayTopology.proxyProtocol` (every
   * listener requires the header); OPTIONAL and STRICT_PER_PORT add an EnvoyFilter instead (never both).
   *
   * @default ProxyProtocolMode.STRICT
   */
  readonly proxyProtocolMode?: ProxyProtocolMode;

  /**
   * Gateway (Service) ports that accept PROXY, for STRICT_PER_PORT (required) and OPTIONAL.
   *
   * @default - every server port (OPTIONAL); none is not allowed for STRICT_PER_PORT
   */
  readonly proxyProtocolPorts?: number[];

  /**
   * The PROXY protocol version the load balancer sends; checked against the profile. Envoy accepts both
   * versions, so this only documents and checks.
   *
   * @default - from `trustChain`, else not pinned
   */
  readonly proxyProtocolVersion?: ProxyProtocolVersion;

  /**
   * Emit the profile's Service annotations that switch PROXY on at the load balancer (on every port). Turn it
   * off when you switch PROXY on per listener yourself.
   *
   * @default true
   */
  readonly loadBalancerProxyProtocolAnnotations?: boolean;

  /**
   * Whether clients inside the cluster call the gateway Service. They send no PROXY header, so strict PROXY
   * breaks them: true is refused with STRICT, warned about with STRICT_PER_PORT; false silences the warning.
   *
   * @default - unknown: a warning in the strict modes
   */
  readonly inClusterCallers?: boolean;
}

/**
 * An Istio ingress gateway behind an L4 load balancer that sends PROXY protocol, for TCP, TLS passthrough and
 * HTTP(S) servers. It switches PROXY on at the load balancer (profile annotations), accepts it on the gateway
 * (native `gatewayTopology.proxyProtocol`, or an EnvoyFilter for OPTIONAL and per-port), keeps the load
 * balancer's health checks working, and can pass the client on to meshed TCP backends with
 * `addProxyProtocolBackend()`.
 */
export class ProxyProtocolGateway extends IngressGatewayBase {
  /** The PROXY capabilities of the load balancer in front. */
  public readonly proxyProtocolSupport: ProxyProtocolSupport;
  /** The PROXY version the load balancer sends, when pinned. @default - not pinned */
  public readonly proxyProtocolVersion?: ProxyProtocolVersion;
  /** The EnvoyFilter of OPTIONAL and STRICT_PER_PORT modes. @default - none in STRICT mode (native topology setting) */
  public readonly listenerFilter?: ProxyProtocolListenerFilter;
  private readonly routedBackendHosts: string[] = [];

  public constructor(scope: Construct, id: string, props: ProxyProtocolGatewayProps = {}) {
    const resolved = resolveWithPath(constructPathOf(scope, id), () => resolveConfig(scope, props));
    super(scope, id, resolved.config);
    try {
      this.proxyProtocolSupport = resolved.support;
      this.proxyProtocolVersion = resolved.version;
      resolved.warnings.forEach(w => this.warn(w));
      if (this._config.proxyProtocolMode !== ProxyProtocolMode.STRICT) {
        this.listenerFilter = this.addListenerFilter();
      }
      Topology.of(this).addValidation(this, () => this.validatePorts(props));
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /**
   * Routes a TCP server's connections to a backend Service; returns the VirtualService.
   */
  public addTcpRoute(options: TcpRouteOptions): ApiObject {
    this.routedBackendHosts.push(options.backendHost);
    return super.addTcpRoute(options);
  }

  /** Routes a TLS passthrough server's connections for `sniHosts` to a backend Service; returns the VirtualService. */
  public addTlsRoute(options: TlsRouteOptions): ApiObject {
    this.routedBackendHosts.push(options.backendHost);
    return super.addTlsRoute(options);
  }

  /**
   * Passes the client address on to a meshed TCP backend with PROXY protocol (a DestinationRule for the host
   * and the inbound PROXY filter on the backend's sidecar). Route to it with `addTcpRoute()` or `addTlsRoute()`.
   *
   * @param id construct id of the backend, a child of this gateway
   */
  public addProxyProtocolBackend(id: string, props: ProxyProtocolBackendProps): ProxyProtocolBackend {
    const backend = new ProxyProtocolBackend(this, id, Object.assign({}, props, { istioVersion: props.istioVersion ?? this.istioVersion }));
    this.node.addValidation({
      validate: () => this.routedBackendHosts.some(h => h === backend.host || h === props.host) ? [] : [
        `addProxyProtocolBackend "${id}" host "${backend.host}" is not routed by gateway "${this._config.name}": add addTcpRoute() or addTlsRoute() with backendHost "${backend.host}", or create the ProxyProtocolBackend on its own`,
      ],
    });
    return backend;
  }

  /** The EnvoyFilter that accepts PROXY on the chosen listeners (never together with the native setting). */
  private addListenerFilter(): ProxyProtocolListenerFilter {
    const filter = new ProxyProtocolListenerFilter(this, 'ProxyProtocolFilter', {
      name: `${this._config.name}-proxy-protocol`,
      namespace: this.targetNamespace,
      selector: this.targetSelector,
      allowRequestsWithoutProxyProtocol: this._config.proxyProtocolMode === ProxyProtocolMode.OPTIONAL,
      istioVersion: this.istioVersion,
    });
    filter._addPortSource(() => this.proxyProtocolServicePorts().map(port => this.listenerPortOf(port)));
    return filter;
  }

  /** The shared port checks (the ones `explain` runs on every gateway) on this gateway's model. */
  private validatePorts(props: ProxyProtocolGatewayProps): string[] {
    const lbSendsEverywhere = Object.keys(this.proxyProtocolSupport.serviceAnnotations).length > 0
      && props.loadBalancerProxyProtocolAnnotations !== false;
    return checkGatewayPorts(this._gatewayModel()!, lbSendsEverywhere).map(findingText);
  }
}

interface ResolvedProxyProtocolConfig {
  readonly config: IngressGatewayConfig;
  readonly support: ProxyProtocolSupport;
  readonly version?: ProxyProtocolVersion;
  readonly warnings: string[];
}

function resolveConfig(scope: Construct, props: ProxyProtocolGatewayProps): ResolvedProxyProtocolConfig {
  const shared = resolveSharedGatewayProps(scope, props, {
    name: 'proxy-protocol-gateway',
    externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER,
    acceptsProxyProtocol: true,
    replicasFix: 'run at least 1 gateway pod, 2 or more for availability',
    numTrustedProxiesFix: 'count only the proxies that append to X-Forwarded-For; PROXY protocol hops do not count',
  });
  const { istioVersion, profile, numTrustedProxies, externalTrafficPolicy } = shared;
  const support = props.proxyProtocolSupport ?? ProxyProtocolSupport.forProfile(profile);
  const mode = checkMode(props.proxyProtocolMode ?? ProxyProtocolMode.STRICT);
  const ports = checkProxyProtocolPorts(mode, props.proxyProtocolPorts);
  const version = props.proxyProtocolVersion ?? shared.chain.proxyProtocolVersion;
  if (version !== undefined && !Object.values(ProxyProtocolVersion).includes(version)) {
    throw new Error(`proxyProtocolVersion ${JSON.stringify(version)} is not allowed: use ProxyProtocolVersion.V1 or ProxyProtocolVersion.V2`);
  }
  support.check('loadBalancerProfile', version);
  if (mode === ProxyProtocolMode.STRICT && props.inClusterCallers === true) {
    throw new Error('inClusterCallers true is not allowed with proxyProtocolMode STRICT: callers inside the cluster send no PROXY header and every listener would reset them; '
      + 'use ProxyProtocolMode.OPTIONAL, or ProxyProtocolMode.STRICT_PER_PORT with the in-cluster ports left out');
  }

  const warnings: string[] = [];
  const healthCheck = healthCheckSettings(support, istioVersion, externalTrafficPolicy, warnings);
  const emitLbAnnotations = props.loadBalancerProxyProtocolAnnotations ?? true;
  if (support.manualStep || !emitLbAnnotations) {
    warnings.push(`loadBalancerProfile "${profile.id}": ${support.manualStep && emitLbAnnotations ? support.manualStep : 'loadBalancerProxyProtocolAnnotations is false, so switch PROXY protocol on at the load balancer yourself'}; `
      + 'PROXY must be on at the load balancer and the gateway at the same moment, or connections break');
  }
  if (support.caveat) warnings.push(`loadBalancerProfile "${profile.id}": ${support.caveat}`);
  if (mode === ProxyProtocolMode.OPTIONAL) {
    warnings.push('proxyProtocolMode optional: connections without a PROXY header are accepted, and anyone who reaches these ports directly can send a forged PROXY header with any client address; '
      + 'allow only the load balancer to reach the gateway (NetworkPolicy, loadBalancerSourceRanges), or use STRICT');
  }
  if (numTrustedProxies > 0) {
    warnings.push(`numTrustedProxies ${numTrustedProxies} with PROXY protocol: for HTTP servers the X-Forwarded-For header takes precedence and the PROXY client address is ignored (istio.io network topologies); `
      + 'PROXY still gives the client of TCP and TLS passthrough servers; if no proxy in front appends to X-Forwarded-For, remove numTrustedProxies');
  }
  if (mode !== ProxyProtocolMode.OPTIONAL && props.inClusterCallers === undefined) {
    warnings.push(`proxyProtocolMode ${mode}: clients inside the cluster that call the gateway Service send no PROXY header and are reset${mode === ProxyProtocolMode.STRICT_PER_PORT ? ' on the PROXY ports' : ''}; `
      + 'call backends directly, or use ProxyProtocolMode.OPTIONAL; set inClusterCallers: false to confirm there are none');
  } else if (mode === ProxyProtocolMode.STRICT_PER_PORT && props.inClusterCallers === true) {
    warnings.push(`inClusterCallers true with proxyProtocolMode strict-per-port: in-cluster clients must use the ports without PROXY, not ${JSON.stringify(ports)}`);
  }

  return {
    support,
    version,
    warnings,
    config: Object.assign({}, shared, {
      proxyProtocolMode: mode,
      proxyProtocolPorts: ports,
      containerEnv: healthCheck.containerEnv,
      serviceAnnotations: withProxyProtocolFact(profile, version, Object.assign({},
        emitLbAnnotations ? support.serviceAnnotations : {},
        healthCheck.serviceAnnotations,
        // Declared facts may differ from the load-balancer table that explain reads: write them down.
        props.proxyProtocolSupport !== undefined ? { [HEALTH_CHECK_FIX_ANNOTATION]: support.healthCheckFix } : {},
        shared.serviceAnnotations)),
    }),
  };
}

/**
 * The Service annotations plus, when none of them tells a reader that the load balancer sends PROXY (it is switched
 * on in a console, a cloud CRD or per listener), the library's own annotation saying so, so that `explain` reads
 * what the construct knows.
 */
function withProxyProtocolFact(profile: LoadBalancerProfile, version: ProxyProtocolVersion | undefined,
  annotations: { [key: string]: string }): { [key: string]: string } {
  const recognised = recogniseLoadBalancer(Object.assign({}, profile.serviceAnnotations, annotations), profile.loadBalancerClass);
  if (recognised.sendsProxyProtocol) return annotations;
  return Object.assign({}, annotations, { [LB_PROXY_PROTOCOL_ANNOTATION]: version ?? 'true' });
}

function checkMode(mode: ProxyProtocolMode): ProxyProtocolMode {
  if (mode === ProxyProtocolMode.OFF) {
    throw new Error('proxyProtocolMode off is not allowed on a ProxyProtocolGateway: use PreservedIngressGateway for a gateway without PROXY protocol');
  }
  if (!Object.values(ProxyProtocolMode).includes(mode)) {
    throw new Error(`proxyProtocolMode ${JSON.stringify(mode)} is not allowed: use ProxyProtocolMode.STRICT, OPTIONAL or STRICT_PER_PORT`);
  }
  return mode;
}

function checkProxyProtocolPorts(mode: ProxyProtocolMode, ports: number[] | undefined): number[] {
  const list = (ports ?? []).map((p, i) => checkPort(`proxyProtocolPorts[${i}]`, p));
  if (mode === ProxyProtocolMode.STRICT && list.length > 0) {
    throw new Error(`proxyProtocolPorts ${JSON.stringify(list)} is not allowed with proxyProtocolMode STRICT: Istio's native setting applies to every listener; use ProxyProtocolMode.STRICT_PER_PORT to limit PROXY to some ports`);
  }
  if (mode === ProxyProtocolMode.STRICT_PER_PORT && list.length === 0) {
    throw new Error('proxyProtocolPorts is empty with proxyProtocolMode STRICT_PER_PORT: list the gateway ports that require PROXY, such as [443], or use ProxyProtocolMode.STRICT for every port');
  }
  return [...new Set(list)];
}

interface HealthCheckSettings {
  readonly containerEnv: { [key: string]: string };
  readonly serviceAnnotations: { [key: string]: string };
}

/**
 * Load balancers that send PROXY on health checks fail the status port 15021 (istio/istio#25875, #39868). From
 * Istio 1.27 the status port accepts PROXY when present; before that, and for targets that never speak PROXY
 * (kube-proxy's healthCheckNodePort), the health check becomes a plain TCP check of the traffic port.
 */
function healthCheckSettings(
  support: ProxyProtocolSupport, istioVersion: IstioVersion, etp: ExternalTrafficPolicy, warnings: string[]): HealthCheckSettings {
  const containerEnv: { [key: string]: string } = istioVersion.supportsStatusPortProxyProtocol ? { [STATUS_PORT_PROXY_PROTOCOL_ENV]: 'true' } : {};
  switch (support.healthCheckFix) {
    case HealthCheckFix.TCP_CHECK:
      return { containerEnv, serviceAnnotations: support.healthCheckAnnotations };
    case HealthCheckFix.STATUS_PORT_OR_TCP_CHECK:
      if (istioVersion.supportsStatusPortProxyProtocol) return { containerEnv, serviceAnnotations: {} };
      if (Object.keys(support.healthCheckAnnotations).length === 0) {
        throw new Error(`proxyProtocolSupport healthCheckFix ${support.healthCheckFix} needs healthCheckAnnotations with istioVersion ${istioVersion.label}: the status port accepts PROXY only from Istio 1.27, so the health check must be a plain TCP check of the traffic port; `
          + 'give the Service annotations that make it one, or use istioVersion 1.27 or later');
      }
      return { containerEnv, serviceAnnotations: support.healthCheckAnnotations };
    case HealthCheckFix.UNKNOWN:
      if (!istioVersion.supportsStatusPortProxyProtocol) {
        warnings.push(`istioVersion ${istioVersion.label} with loadBalancerProfile "${support.profileId}": if the load balancer sends PROXY on its health checks, the status port 15021 rejects them (istio/istio#25875) and every target goes unhealthy; `
          + 'use a TCP health check of the traffic port, or Istio 1.27+ where the status port accepts PROXY');
      } else if (etp === ExternalTrafficPolicy.LOCAL) {
        warnings.push(`externalTrafficPolicy Local with loadBalancerProfile "${support.profileId}": the load balancer health-checks kube-proxy's healthCheckNodePort, which does not speak PROXY; make sure its health checks carry no PROXY header, or use Cluster`);
      }
      return { containerEnv, serviceAnnotations: {} };
    default:
      return { containerEnv, serviceAnnotations: {} };
  }
}
