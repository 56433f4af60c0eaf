import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { AttachedInstallation, renderServicePatch, resolveExisting } from './attach-mode';
import { claimTraffic, resolveBackendHost } from './backend-traffic';
import {
  ReferenceGrants, renderGatewayApiGateway, renderGatewayApiParameters, renderHttpRoute, renderRedirectRoute, renderStreamRoute,
} from './gateway-api-objects';
import { GatewayApiListener, listenersOf } from './gateway-api-rendering';
import { SharedGatewaySettings } from './gateway-config';
import {
  checkAvailability, renderAvailability, renderDeployment, renderIdentity, renderService, singleReplicaWarning,
} from './gateway-kube-objects';
import {
  ExistingGateway, HttpServerOptions, HttpsMode, HttpsRedirectOptions, HttpsServerOptions, RouteOptions, TcpRouteOptions, TcpServerOptions,
  TlsPassthroughServerOptions, TlsRouteOptions,
} from './gateway-server-options';
import {
  checkBackend, checkGatewayApiHostname, checkGatewayApiSniHost, checkHosts, checkNewServer, HttpRouteEntry, RouteBackend, routeServerErrors,
  ServerEntry, toServerModel,
} from './gateway-servers';
import { GatewayFlavour } from './ingress-gateway-props';
import { destination, GatewayName, renderHttpRoutes, renderIstioGateway, renderVirtualService } from './istio-api-rendering';
import { mergeAnnotations, withSourceFact } from './service-annotations';
import { gatewayListenerPort, PROXY_CONFIG_ANNOTATION } from '../envoy/names';
import { ClientAddressHeader, ClientAddressHeaderOptions } from '../mesh/client-address-header';
import {
  EXPECTED_TOPOLOGY_ANNOTATION, GATEWAY_SERVICE_ANNOTATION, ISTIO_VERSION_ANNOTATION, NODE_ADDRESS_ACCEPTED_ANNOTATION,
  STATUS_PORT_PROXY_PROTOCOL_ENV,
  TRUST_CHAIN_ANNOTATION,
} from '../model/annotations';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, gatewayApiAlphaRouteWarning, gatewayApiResourceKey, generatedServiceName } from '../model/gateway-api';
import { checkLoadBalancerAnnotations } from '../model/gateway-checks';
import { IstioVersion } from '../model/istio-version';
import { loadBalancerFacts } from '../model/load-balancer-facts';
import {
  ExternalTrafficPolicy, GatewayModel, ISourceIpTarget, PolicyTargetRef, ProxyProtocolMode, ProxyRole, ServerModel, WorkloadModel,
} from '../model/model';
import { isOpaqueServer } from '../model/servers';
import { Derived, Topology } from '../model/topology';
import { RouteProtocol, TracedGateway } from '../model/trace-model';
import { TrustChain } from '../model/trust-chain';
import { addRateLimitPerClient } from '../policy/rate-limit-per-client';
import { RateLimitPerClientProps } from '../policy/rate-limit-props';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { joinTrace } from '../trace/topology-trace';
import { checkAnnotations, checkDnsLabel, checkHostname, checkPort, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

export * from './gateway-server-options';

/*
 * The public class every ingress gateway construct extends, and its public types. What it renders lives in helper
 * modules along the seams (internal, not exported from src/ingress): Kubernetes objects (gateway-kube-objects.ts),
 * Istio's API (istio-api-rendering.ts), the Gateway API (gateway-api-objects.ts, gateway-api-rendering.ts), attach
 * mode (attach-mode.ts), servers and routes (gateway-servers.ts), Service annotations (service-annotations.ts).
 */

/**
 * @internal The resolved settings `IngressGatewayBase` renders. Subclasses build it from their props; every field is
 * already validated and defaulted.
 */
export interface IngressGatewayConfig extends SharedGatewaySettings {
  /** PROXY protocol mode; STRICT writes `gatewayTopology.proxyProtocol: {}`, the others need the subclass's filters. */
  readonly proxyProtocolMode: ProxyProtocolMode;
  /** Ports PROXY protocol applies to (empty: all). */
  readonly proxyProtocolPorts: number[];
  /** Extra environment variables of the `istio-proxy` container. */
  readonly containerEnv: { [key: string]: string };
  /** Attach to this installation instead of deploying one. @default - deploy a gateway */
  readonly existing?: ExistingGateway;
}

/**
 * The machinery every ingress gateway construct shares: the gateway Deployment (by gateway injection), its
 * ServiceAccount, secret-reading Role, `LoadBalancer` Service, PodDisruptionBudget, optional autoscaler, the
 * `proxy.istio.io/config` topology annotation, and the Istio `Gateway` and `VirtualService`s built by the
 * `addX()` methods. In attach mode (`config.existing`) only the Gateway, VirtualServices and a partial Service
 * for server-side apply are emitted.
 *
 * Subclasses resolve their props into an `IngressGatewayConfig` and pass it to the constructor. Not part of the
 * public API: its members appear on each gateway.
 *
 * @internal
 */
export abstract class IngressGatewayBase extends Construct implements ISourceIpTarget {
  /** Namespace of the gateway pods (policies for this gateway go there). */
  public readonly targetNamespace: string;
  /** Pod labels of the gateway. */
  public readonly targetSelector: { [key: string]: string };
  /** Always `ProxyRole.GATEWAY`. */
  public readonly targetRole: ProxyRole = ProxyRole.GATEWAY;
  /** The Istio release the output is for. */
  public readonly istioVersion: IstioVersion;
  /** Name of the Kubernetes Service in front of the gateway pods. */
  public readonly serviceName: string;
  /** The Istio Gateway resource, or with `GatewayFlavour.GATEWAY_API` the `gateway.networking.k8s.io/v1` Gateway. */
  public readonly gateway: ApiObject;
  /**
   * What policies attach to with `targetRefs`: the Gateway API Gateway.
   * @default - undefined for GatewayFlavour.ISTIO: policies select the pods
   */
  public readonly policyTargetRefs?: PolicyTargetRef[];
  /**
   * With `GatewayFlavour.GATEWAY_API`, the `spec.infrastructure.parametersRef` ConfigMap whose overlays set up the
   * Deployment, Service, PodDisruptionBudget and autoscaler Istio generates.
   * @default - undefined for GatewayFlavour.ISTIO
   */
  public readonly parameters?: ApiObject;

  /** @internal The resolved settings (read-only for subclasses). */
  protected readonly _config: IngressGatewayConfig;
  /**
   * The gateway Deployment, for changes this construct has no prop for: `deployment.addJsonPatch(JsonPatch.add(...))`
   * (for example `/spec/template/spec/nodeSelector`). Patches run after rendering, so they can override it.
   * @default - undefined in attach mode and with GatewayFlavour.GATEWAY_API (Istio deploys it; see `parameters`)
   */
  public readonly deployment?: ApiObject;
  /**
   * The gateway's LoadBalancer Service, or in attach mode the partial Service for server-side apply (when one is
   * emitted). Change it with `service.addJsonPatch(...)`, for example to add `loadBalancerSourceRanges`.
   * @default - undefined in attach mode with externalTrafficPolicy Cluster, and with GatewayFlavour.GATEWAY_API
   * (Istio generates `<name>-istio`; see `parameters`)
   */
  public readonly service?: ApiObject;
  /** Servers in the order they were added. */
  private readonly servers: ServerEntry[] = [];
  /** The backend host of every route, with what it carries (the trace follows them to workloads). */
  private readonly routeBackends: Array<{ readonly host: string; readonly protocol: RouteProtocol }> = [];
  private readonly httpRoutes = new Map<string, { vs: ApiObject; routes: HttpRouteEntry[] }>();
  private routeCount = 0;
  /** The client-address header, once `clientAddressHeader()` is called. */
  private clientHeader?: ClientAddressHeader;
  /** True for GatewayFlavour.GATEWAY_API. */
  private readonly gatewayApi: boolean;
  /** The ReferenceGrants of Gateway API routes to backends in other namespaces. */
  private readonly referenceGrants: ReferenceGrants;

  /**
   * @param config resolved, validated settings (see `IngressGatewayConfig`)
   */
  protected constructor(scope: Construct, id: string, config: IngressGatewayConfig) {
    super(scope, id);
    try {
      this._config = config;
      this.istioVersion = config.istioVersion;
      this.gatewayApi = config.flavour === GatewayFlavour.GATEWAY_API;
      this.referenceGrants = new ReferenceGrants(this, this.gatewayName());
      checkAnnotations('serviceAnnotations', config.serviceAnnotations);
      // A PROXY switch the load-balancer table cannot read is a warning here as in explain (the shared check).
      for (const f of checkLoadBalancerAnnotations(config, config.serviceAnnotations)) this.warn(`${f.message}; ${f.fix}`);
      let installation: AttachedInstallation | undefined;
      if (this.gatewayApi) {
        checkDnsLabel('name', config.name);
        checkDnsLabel('namespace', config.namespace);
        if (generatedServiceName(config.name).length > 63) {
          throw new Error(`name "${config.name}" is too long for flavour gateway-api: Istio names the gateway's Deployment and Service "${generatedServiceName(config.name)}", and a Service name has at most 63 characters; use a name of at most ${63 - generatedServiceName('').length} characters`);
        }
        this.targetNamespace = config.namespace;
        this.targetSelector = { [GATEWAY_NAME_LABEL]: config.name };
        this.serviceName = generatedServiceName(config.name);
        this.policyTargetRefs = [{ group: GATEWAY_API_GROUP, kind: 'Gateway', name: config.name }];
      } else if (config.existing) {
        // Checked first: the gateway's namespace defaults to it, and the message must name what the user set.
        installation = resolveExisting(config.existing);
        this.targetNamespace = installation.namespace;
        this.targetSelector = installation.selector;
        this.serviceName = installation.serviceName;
        checkDnsLabel('name', config.name);
        checkDnsLabel('namespace', config.namespace);
      } else {
        checkDnsLabel('name', config.name);
        checkDnsLabel('namespace', config.namespace);
        this.targetNamespace = config.namespace;
        this.targetSelector = { app: config.name, istio: config.name };
        this.serviceName = config.name;
      }

      const trustChain: { [key: string]: string } = config.trustChain ? { [TRUST_CHAIN_ANNOTATION]: config.trustChain.toAnnotationValue() } : {};
      this.gateway = this.gatewayApi
        ? renderGatewayApiGateway(this, this.gatewayName(), { [ISTIO_VERSION_ANNOTATION]: this.istioVersion.label }, trustChain,
          () => this.proxyConfigAnnotation(), () => this.listeners())
        : renderIstioGateway(this, this.gatewayName(), this.gatewayAnnotations(), this.targetSelector, this.servers);
      Topology.of(this).addGateway(this);
      joinTrace(this);
      // Checks of the servers run once per state of the topology (a server added changes it), not once per chart.
      Topology.of(this).addValidation(this, () => this.servers.length === 0 ? [`gateway "${config.name}" has no servers: call addHttpServer(), addHttpsServer(), addTcpServer() or addTlsPassthroughServer()`] : []);

      if (this.gatewayApi) {
        this.parameters = this.renderParameters();
      } else if (installation) {
        this.service = config.externalTrafficPolicy === ExternalTrafficPolicy.LOCAL
          ? renderServicePatch(this, installation, config.externalTrafficPolicy) : undefined;
      } else {
        renderIdentity(this, this.gatewayName());
        this.deployment = renderDeployment(this, config, this.targetSelector, config.containerEnv, () => this.proxyConfigAnnotation());
        this.service = renderService(this, config, this.targetSelector, this.renderedServiceAnnotations(), this.servers);
        renderAvailability(this, config, this.targetSelector, message => this.warn(message));
      }
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** Adds a plain HTTP server. */
  public addHttpServer(options: HttpServerOptions = {}): void {
    this.addServer({ port: options.port ?? 80, protocol: 'HTTP', hosts: checkHosts('hosts', options.hosts) }, 'addHttpServer');
  }

  /** Adds an HTTPS server that terminates TLS with the secret `credentialName`. */
  public addHttpsServer(options: HttpsServerOptions): void {
    const mode = options.mode ?? HttpsMode.SIMPLE;
    if (!Object.values(HttpsMode).includes(mode)) {
      throw new Error(`addHttpsServer mode ${JSON.stringify(mode)} is not allowed: use HttpsMode.SIMPLE or HttpsMode.MUTUAL`);
    }
    if (!options.credentialName) {
      throw new Error(`addHttpsServer credentialName ${JSON.stringify(options.credentialName)} is not allowed: give the name of a kubernetes.io/tls secret in namespace "${this.targetNamespace}" (the gateway pods' namespace)`);
    }
    checkDnsLabel('addHttpsServer credentialName', options.credentialName);
    if (this.gatewayApi && mode === HttpsMode.MUTUAL) {
      throw new Error('addHttpsServer mode MUTUAL is not allowed with flavour gateway-api: client certificate validation of a Gateway API listener is not in the Gateway API releases every supported Istio reads; use HttpsMode.SIMPLE, or GatewayFlavour.ISTIO for mutual TLS');
    }
    this.addServer({
      port: options.port ?? 443,
      protocol: 'HTTPS',
      hosts: checkHosts('hosts', options.hosts),
      tls: { mode, credentialName: options.credentialName },
    }, 'addHttpsServer');
  }

  /**
   * Adds a plain HTTP server that answers every request with a redirect to HTTPS (with GatewayFlavour.GATEWAY_API,
   * an HTTPRoute with a RequestRedirect filter on its listeners).
   */
  public addHttpsRedirect(options: HttpsRedirectOptions = {}): void {
    const server: ServerEntry = { port: options.port ?? 80, protocol: 'HTTP', hosts: checkHosts('hosts', options.hosts), tls: { httpsRedirect: true } };
    this.addServer(server, 'addHttpsRedirect');
    if (this.gatewayApi) renderRedirectRoute(this, this.routeCount++, this.gatewayName(), () => this.listeners(), server);
  }

  /** Adds an opaque TCP server (the client address reaches it only at L3 or by PROXY protocol). */
  public addTcpServer(options: TcpServerOptions): void {
    this.addServer({ port: options.port, protocol: 'TCP', hosts: ['*'] }, 'addTcpServer');
  }

  /** Adds a TLS server that passes the encrypted stream through, routed by SNI. */
  public addTlsPassthroughServer(options: TlsPassthroughServerOptions): void {
    if (!options.hosts || options.hosts.length === 0) {
      throw new Error('addTlsPassthroughServer hosts is empty: give the SNI names the server accepts, such as ["db.example.com"]');
    }
    this.addServer({ port: options.port ?? 443, protocol: 'TLS', hosts: checkHosts('hosts', options.hosts), tls: { mode: 'PASSTHROUGH' } }, 'addTlsPassthroughServer');
  }

  /**
   * Routes HTTP and HTTPS requests for `host` under `pathPrefix` to a backend Service. Routes of one host share
   * one VirtualService (returned), longest prefix first.
   */
  public addRoute(options: RouteOptions): ApiObject {
    const host = checkHostname('addRoute host', options.host ?? '*');
    if (this.gatewayApi) checkGatewayApiHostname('addRoute host', host);
    const pathPrefix = options.pathPrefix ?? '/';
    if (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/')) {
      throw new Error(`addRoute pathPrefix ${JSON.stringify(pathPrefix)} is not allowed: start it with "/", for example "/api"`);
    }
    const route: HttpRouteEntry = { pathPrefix, ...this.backend('addRoute', options.backendHost, options.backendPort, 'http') };
    this.routeBackends.push({ host: route.backendHost, protocol: 'HTTP' });
    let entry = this.httpRoutes.get(host);
    if (!entry) {
      const routes: HttpRouteEntry[] = [];
      const index = this.routeCount++;
      const vs = this.gatewayApi ? renderHttpRoute(this, index, this.gatewayName(), () => this.listeners(), host, routes)
        : renderVirtualService(this, index, this.gatewayName(), [host], () => ({ http: renderHttpRoutes(routes, this.clientHeader?.headerName) }));
      entry = { vs, routes };
      this.httpRoutes.set(host, entry);
    }
    if (entry.routes.some(r => r.pathPrefix === pathPrefix)) {
      throw new Error(`addRoute pathPrefix "${pathPrefix}" is already routed for host "${host}": use one route per host and prefix`);
    }
    entry.routes.push(route);
    Topology.of(this).addValidation(this, () => routeServerErrors(this.servers, this._config.name, 'addRoute', ['HTTP', 'HTTPS'], host));
    return entry.vs;
  }

  /** Routes a TCP server's connections to a backend Service; returns the VirtualService. */
  public addTcpRoute(options: TcpRouteOptions): ApiObject {
    const port = checkPort('addTcpRoute port', options.port);
    const backend = this.backend('addTcpRoute', options.backendHost, options.backendPort, 'tcp');
    this.routeBackends.push({ host: backend.backendHost, protocol: 'TCP' });
    Topology.of(this).addValidation(this, () => routeServerErrors(this.servers, this._config.name, 'addTcpRoute', ['TCP'], undefined, port));
    if (this.gatewayApi) return this.streamRoute('addTcpRoute', port, [], backend);
    return renderVirtualService(this, this.routeCount++, this.gatewayName(), ['*'],
      () => ({ tcp: [{ match: [{ port }], route: [{ destination: destination(backend) }] }] }));
  }

  /** Routes a TLS passthrough server's connections for `sniHosts` to a backend Service; returns the VirtualService. */
  public addTlsRoute(options: TlsRouteOptions): ApiObject {
    const port = checkPort('addTlsRoute port', options.port ?? 443);
    if (!options.sniHosts || options.sniHosts.length === 0) {
      throw new Error('addTlsRoute sniHosts is empty: give the SNI names to route, such as ["db.example.com"]');
    }
    const sniHosts = options.sniHosts.map(h => checkHostname('addTlsRoute sniHosts', h));
    if (this.gatewayApi) sniHosts.forEach(h => checkGatewayApiSniHost(h));
    const backend = this.backend('addTlsRoute', options.backendHost, options.backendPort, 'tls');
    this.routeBackends.push({ host: backend.backendHost, protocol: 'TCP' });
    Topology.of(this).addValidation(this, () => sniHosts.flatMap(h => routeServerErrors(this.servers, this._config.name, 'addTlsRoute', ['TLS'], h, port)));
    if (this.gatewayApi) return this.streamRoute('addTlsRoute', port, sniHosts, backend);
    return renderVirtualService(this, this.routeCount++, this.gatewayName(), sniHosts,
      () => ({ tls: [{ match: [{ port, sniHosts }], route: [{ destination: destination(backend) }] }] }));
  }

  /**
   * Allows only clients from `cidrs` through this gateway (an ALLOW AuthorizationPolicy on the gateway pods,
   * matching the field the gateway's topology makes trustworthy).
   */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies clients from `cidrs` at this gateway (a DENY AuthorizationPolicy on the gateway pods). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /**
   * Limits each client to `props.requests` per `props.per` at this gateway, per gateway replica: an EnvoyFilter
   * (returned) with Envoy's local rate limit keyed on the client address the gateway resolves (`remote_address`, one
   * bucket per client). Refused by the trace where the gateway does not resolve the client (a load balancer that
   * hides it, a spoofable X-Forwarded-For), and before Istio 1.26. One per gateway.
   */
  public rateLimitPerClient(props: RateLimitPerClientProps): ApiObject {
    return addRateLimitPerClient(this, {
      proxy: ProxyRole.GATEWAY,
      namespace: this.targetNamespace,
      selector: this.targetSelector,
      name: this._config.name,
      istioVersion: this.istioVersion,
    }, props);
  }

  /**
   * Writes the client the gateway resolved into request header `name` (default `x-real-ip`) on its HTTP routes,
   * overwriting any copy the client sent: with GatewayFlavour.ISTIO through the routes' VirtualServices, with
   * GatewayFlavour.GATEWAY_API through an EnvoyFilter on the gateway pods. Returns it; a second call with the same
   * name returns the same header.
   */
  public clientAddressHeader(options: ClientAddressHeaderOptions = {}): ClientAddressHeader {
    const name = ClientAddressHeader._checkName(options);
    const existing = ClientAddressHeader._reuse(this.clientHeader, name, `gateway "${this._config.name}"`);
    if (existing) return existing;
    this.clientHeader = ClientAddressHeader._render(this, {
      name,
      ...(this.gatewayApi ? { context: 'GATEWAY' as const } : {}),
      namespace: this.targetNamespace,
      selector: this.targetSelector,
    });
    Topology.of(this).changed();
    if (!this.gatewayApi) {
      Topology.of(this).addValidation(this, () => this.httpRoutes.size > 0 ? [] : [`clientAddressHeader "${name}" is written by the VirtualServices of gateway "${this._config.name}"'s HTTP routes, but it has none: call addRoute()`]);
    }
    return this.clientHeader;
  }

  /** The hops declared in front of the gateway. @default - not declared */
  public get trustChain(): TrustChain | undefined {
    return this._config.trustChain;
  }

  /**
   * The gateway model, built from the servers added so far. Policies, checks and the trace ask for it many times per
   * synthesis; every change to what it is built from (a server, the client-address header) changes the topology, so
   * it is kept per state of the topology. Shared: read it without changing it. @internal
   */
  public _gatewayModel(): GatewayModel | undefined {
    return Topology.of(this).deriveFor(this, GATEWAY_MODEL, () => this.buildGatewayModel());
  }

  private buildGatewayModel(): GatewayModel {
    return {
      name: this._config.existing ? this.serviceName : this._config.name,
      namespace: this.targetNamespace,
      selector: { ...this.targetSelector },
      externalTrafficPolicy: this._config.externalTrafficPolicy,
      loadBalancerPreservesSource: this._config.profile.preservesSourceWithoutLocal,
      numTrustedProxies: this._config.numTrustedProxies,
      proxyProtocol: this._config.proxyProtocolMode,
      proxyProtocolPorts: this.proxyProtocolServicePorts().sort((a, b) => a - b),
      servers: this.serverModels(),
      serviceName: this.serviceName,
      ...(this.clientHeader ? { clientAddressHeader: this.clientHeader.headerName } : {}),
    };
  }

  /**
   * The gateway as the trace reads it: its model and the facts of the Service this construct renders (its type and
   * annotations, and so what the load balancer does). @internal
   */
  public _tracedGateway(): TracedGateway {
    const model = this._gatewayModel()!;
    // Istio copies a Gateway API gateway's infrastructure annotations onto the Service it generates.
    const rendered = this._config.existing ? {} : this.renderedServiceAnnotations();
    const serviceAnnotations = this.gatewayApi ? { [PROXY_CONFIG_ANNOTATION]: this.proxyConfigAnnotation(), ...rendered } : rendered;
    const lb = loadBalancerFacts(serviceAnnotations, this._config.existing ? undefined : this._config.profile.loadBalancerClass);
    const gatewayNamespace = this.gateway.metadata.namespace ?? this.targetNamespace;
    const resource = this.gatewayApi ? gatewayApiResourceKey(gatewayNamespace, this.gateway.name) : `${gatewayNamespace}/${this.gateway.name}`;
    const statusPortEnv = this._config.existing ? undefined : this._config.containerEnv[STATUS_PORT_PROXY_PROTOCOL_ENV];
    return {
      model,
      ...(this._config.existing ? {} : { serviceType: 'LoadBalancer' }),
      loadBalancerSendsProxyProtocol: lb.sendsProxyProtocol,
      loadBalancerSendsProxyProtocolOnEveryPort: lb.sendsProxyProtocolOnEveryPort,
      ...(this._config.trustChain ? { trustChain: this._config.trustChain } : {}),
      proxyProtocolTwice: false,
      gatewayResources: [resource],
      agentEnvKnown: !this._config.existing,
      ...(statusPortEnv !== undefined ? { statusPortProxyProtocolEnv: { value: statusPortEnv, source: `the gateway's istio-proxy container (${this.node.path})` } } : {}),
      ...(lb.id ? { loadBalancerId: lb.id } : {}),
      serviceAnnotations,
      ...(this.seesNodeAddress() ? { nodeAddressAccepted: true } : {}),
    };
  }

  /** The backend hosts of the routes added so far, with the protocol each carries. @internal */
  public _routeBackends(): ReadonlyArray<{ readonly host: string; readonly protocol: RouteProtocol }> {
    return this.routeBackends;
  }

  /** Gateways are not meshed workloads. @internal */
  public _workloadModel(): WorkloadModel | undefined {
    return undefined;
  }

  /**
   * The Service ports that accept PROXY in the OPTIONAL and STRICT_PER_PORT modes: the listed ones, or every server
   * port. Empty in the STRICT mode (every listener) and without PROXY.
   */
  protected proxyProtocolServicePorts(): number[] {
    const mode = this._config.proxyProtocolMode;
    if (mode === ProxyProtocolMode.OFF || mode === ProxyProtocolMode.STRICT) return [];
    return this._config.proxyProtocolPorts.length > 0 ? [...this._config.proxyProtocolPorts] : this.serverPorts();
  }

  /** The ports of the servers added so far, each once, in the order added. */
  protected serverPorts(): number[] {
    return [...new Set(this.servers.map(s => s.port))];
  }

  /**
   * The port the gateway's Envoy listens on in the pod for a server (Service) port: ports below 1024 map to
   * `port + 8000`, as in Istio's Helm chart (80 -> 8080, 443 -> 8443), others to themselves. EnvoyFilter
   * listener matches and policy `ports` use this number.
   */
  protected listenerPortOf(servicePort: number): number {
    return this.podPort(servicePort);
  }

  /**
   * The `proxy.istio.io/config` value: `gatewayTopology` with `numTrustedProxies`, `forwardClientCertDetails`
   * and, in STRICT PROXY mode, `proxyProtocol: {}`. Written with `JSON.stringify`.
   */
  protected proxyConfigAnnotation(): string {
    return JSON.stringify({ gatewayTopology: this.gatewayTopology() });
  }

  /**
   * Records a warning on this construct (cdk8s has no Annotations API: warnings are construct metadata of
   * type 'warning', read by tools and tests).
   */
  protected warn(message: string): void {
    SourceIpWarnings.add(this, message);
  }

  /** The gateway's name and namespace, as its Gateway and routes carry them. */
  private gatewayName(): GatewayName {
    return { name: this._config.name, namespace: this._config.namespace };
  }

  /** The annotations of the gateway's Service as rendered (the Gateway API flavour: as the overlay shapes it). */
  private renderedServiceAnnotations(): { [key: string]: string } {
    const profile = this._config.profile;
    if (this.gatewayApi) {
      const extra = Object.assign({}, this._config.serviceAnnotations, this.nodeAddressAcceptance());
      return withSourceFact(profile, mergeAnnotations(profile.serviceAnnotations, extra), profile.serviceAnnotations);
    }
    const trustChain = this._config.trustChain ? { [TRUST_CHAIN_ANNOTATION]: this._config.trustChain.toAnnotationValue() } : {};
    const extra = Object.assign({}, this._config.serviceAnnotations, this.nodeAddressAcceptance(), trustChain);
    return withSourceFact(profile, mergeAnnotations(profile.serviceAnnotations, extra), profile.serviceAnnotations);
  }

  /**
   * The library's annotation that a node address at the gateway is accepted: the user chose externalTrafficPolicy
   * Cluster (the default is Local), so the trace warns about the lost client instead of refusing it.
   */
  private nodeAddressAcceptance(): { [key: string]: string } {
    return this.seesNodeAddress() ? { [NODE_ADDRESS_ACCEPTED_ANNOTATION]: 'true' } : {};
  }

  /** True when the packet source at the gateway is a node: Cluster, no PROXY, a load balancer that does not keep the source. */
  private seesNodeAddress(): boolean {
    const { externalTrafficPolicy, proxyProtocolMode, profile } = this._config;
    return externalTrafficPolicy === ExternalTrafficPolicy.CLUSTER && proxyProtocolMode === ProxyProtocolMode.OFF
      && !profile.preservesSourceWithoutLocal;
  }

  /** The servers as the model sees them: with the Gateway API, one per listener (a listener has one hostname). */
  private serverModels(): ServerModel[] {
    if (!this.gatewayApi) return this.servers.map(s => toServerModel(s, this.podPort(s.port)));
    return this.listeners().map(l => toServerModel(Object.assign({}, l.server, { hosts: [l.hostname ?? '*'] }), l.server.port));
  }

  /**
   * The pod port of a server port: Istio's generated Gateway API deployments listen on the port itself (they may
   * bind ports below 1024); the Deployment this library renders follows the Helm chart (below 1024: + 8000).
   */
  private podPort(servicePort: number): number {
    return this.gatewayApi ? servicePort : gatewayListenerPort(servicePort);
  }

  /**
   * Annotations of the Istio Gateway: the Istio release, and in attach mode what the output cannot otherwise say
   * (the installation's Service, the topology its pods must run with, the declared trust chain).
   */
  private gatewayAnnotations(): { [key: string]: string } {
    const annotations: { [key: string]: string } = { [ISTIO_VERSION_ANNOTATION]: this.istioVersion.label };
    if (!this._config.existing) return annotations;
    annotations[GATEWAY_SERVICE_ANNOTATION] = `${this.targetNamespace}/${this.serviceName}`;
    annotations[EXPECTED_TOPOLOGY_ANNOTATION] = JSON.stringify(this.gatewayTopology());
    if (this._config.trustChain) annotations[TRUST_CHAIN_ANNOTATION] = this._config.trustChain.toAnnotationValue();
    Object.assign(annotations, this.nodeAddressAcceptance());
    return withSourceFact(this._config.profile, annotations, {});
  }

  /** `gatewayTopology` of `proxy.istio.io/config`. */
  private gatewayTopology(): { [key: string]: unknown } {
    const gatewayTopology: { [key: string]: unknown } = {
      numTrustedProxies: this._config.numTrustedProxies,
      forwardClientCertDetails: this._config.forwardClientCertDetails,
    };
    if (this._config.proxyProtocolMode === ProxyProtocolMode.STRICT) gatewayTopology.proxyProtocol = {};
    return gatewayTopology;
  }

  private addServer(server: ServerEntry, method: string): void {
    checkNewServer(this.servers, server, method, this.gatewayApi, port => this.podPort(port), this.node.path);
    this.servers.push(server);
    Topology.of(this).changed();
    const { externalTrafficPolicy, proxyProtocolMode, profile } = this._config;
    if (isOpaqueServer(toServerModel(server, this.podPort(server.port))) && proxyProtocolMode === ProxyProtocolMode.OFF
      && externalTrafficPolicy === ExternalTrafficPolicy.CLUSTER && !profile.preservesSourceWithoutLocal) {
      // X-Forwarded-For hops do not carry TCP: only the packet source could, and Cluster rewrites it.
      this.warn(`${method} port ${server.port}: TCP and TLS passthrough carry no X-Forwarded-For, and externalTrafficPolicy Cluster SNATs the packet source, so this server sees a node IP instead of the client; `
        + 'use externalTrafficPolicy Local, or ProxyProtocolGateway with a load balancer that sends PROXY protocol');
    }
  }

  /** A route's backend: checked, a short host resolved in the route's namespace, and its protocol recorded for the Service check. */
  private backend(method: string, host: string, port: number, protocol: 'http' | 'tcp' | 'tls'): RouteBackend {
    const checked = checkBackend(method, host, port);
    const backendHost = resolveBackendHost(this, method, checked.backendHost, this._config.namespace);
    if (this.gatewayApi) this.referenceGrants.grant(method, backendHost, protocol);
    claimTraffic(this, { host: backendHost, port: checked.backendPort, protocol, by: `${method} on gateway "${this._config.name}"` });
    return { backendHost, backendPort: checked.backendPort };
  }

  /** A Gateway API TCPRoute or TLSRoute, with the warning where the Istio release reads it only behind an alpha flag. */
  private streamRoute(method: string, port: number, sniHosts: string[], backend: RouteBackend): ApiObject {
    const index = this.routeCount++;
    const tls = method === 'addTlsRoute';
    const alphaWarning = gatewayApiAlphaRouteWarning(this.istioVersion, method, this._config.name, tls, port);
    if (alphaWarning) this.warn(alphaWarning);
    return renderStreamRoute(this, index, this.gatewayName(), () => this.listeners(), this.istioVersion, tls, port, sniHosts, backend);
  }

  /** The parametersRef ConfigMap, with the replica bounds checked (and the single-replica warning). */
  private renderParameters(): ApiObject {
    const { name, namespace, profile, autoscaling } = this._config;
    const availability = checkAvailability(this._config);
    if (availability.minReplicas < 2) this.warn(singleReplicaWarning(availability.minReplicas, this._config.externalTrafficPolicy));
    const annotations = this.renderedServiceAnnotations();
    const { minReplicas, maxReplicas, targetCpuUtilization } = availability;
    return renderGatewayApiParameters(this, namespace, {
      gatewayName: name,
      externalTrafficPolicy: this._config.externalTrafficPolicy,
      loadBalancerClass: profile.loadBalancerClass,
      serviceAnnotations: annotations,
      replicas: this._config.replicas,
      autoscaling: autoscaling ? { minReplicas, maxReplicas: maxReplicas!, targetCpuUtilization: targetCpuUtilization! } : undefined,
      containerEnv: this._config.containerEnv,
    });
  }

  private listeners(): GatewayApiListener[] {
    return listenersOf(this.servers);
  }
}

const GATEWAY_MODEL = new Derived<GatewayModel>('gateway-model');
