import { ApiObject, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { claimTraffic, resolveBackendHost } from './backend-traffic';
import {
  backendRef, GatewayApiListener, isServingListener, listenersOf, renderListeners, renderParameterOverlays,
} from './gateway-api-rendering';
import { SharedGatewaySettings } from './gateway-config';
import { GatewayFlavour } from './ingress-gateway-props';
import { LoadBalancerProfile } from './load-balancer-profile';
import {
  Gateway as KubeGateway, HttpRoute, ReferenceGrantV1Beta1, TcpRoute, TcpRouteV1Alpha2, TlsRoute, TlsRouteV1Alpha2,
} from '../../imports/gateway.networking.k8s.io';
import { Gateway, VirtualService } from '../../imports/networking.istio.io';
import { gatewayListenerPort, STATUS_PORT } from '../envoy/names';
import {
  EXPECTED_TOPOLOGY_ANNOTATION, GATEWAY_SERVICE_ANNOTATION, ISTIO_VERSION_ANNOTATION, LB_PRESERVES_SOURCE_ANNOTATION,
  NODE_ADDRESS_ACCEPTED_ANNOTATION, STATUS_PORT_PROXY_PROTOCOL_ENV,
  TRUST_CHAIN_ANNOTATION,
} from '../model/annotations';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, gatewayApiAlphaRouteWarning, gatewayApiResourceKey, generatedServiceName, ISTIO_GATEWAY_CLASS, serviceOfHost } from '../model/gateway-api';
import { checkLoadBalancerAnnotations } from '../model/gateway-checks';
import { IstioVersion } from '../model/istio-version';
import { loadBalancerFacts } from '../model/load-balancer-facts';
import { LIST_ANNOTATIONS, recogniseLoadBalancer } from '../model/load-balancers';
import {
  ExternalTrafficPolicy, GatewayModel, ISourceIpTarget, PolicyTargetRef, ProxyProtocolMode, ProxyRole, ServerModel, WorkloadModel,
} from '../model/model';
import { isOpaqueServer } from '../model/servers';
import { Topology } from '../model/topology';
import { RouteProtocol, TracedGateway } from '../model/trace-model';
import { TrustChain } from '../model/trust-chain';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';
import { joinTrace } from '../trace/topology-trace';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkAnnotations, checkDnsLabel, checkHostname, checkInteger, checkLabels, checkPort, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** TLS mode of an HTTPS server. */
export enum HttpsMode {
  /** Server certificate only. */
  SIMPLE = 'SIMPLE',
  /** Server certificate and a required client certificate (mTLS); the CA comes from `<credentialName>-cacert` or the `ca.crt` key. */
  MUTUAL = 'MUTUAL',
}

/**
 * An existing gateway installation (for example the Helm chart's `istio-ingressgateway` in `istio-system`)
 * that a construct attaches to instead of deploying its own.
 */
export interface ExistingGateway {
  /**
   * Pod labels of the installation.
   *
   * @default { istio: 'ingressgateway' }
   */
  readonly selector?: { [key: string]: string };

  /**
   * Namespace of the installation's pods and Service (where `credentialName` secrets must live).
   *
   * @default 'istio-system'
   */
  readonly namespace?: string;

  /**
   * Name of the installation's Service.
   *
   * @default 'istio-ingressgateway'
   */
  readonly serviceName?: string;
}

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

/** Options of `addHttpServer()`. */
export interface HttpServerOptions {
  /** Port of the server (and of the Service). @default 80 */
  readonly port?: number;
  /** Hosts the server accepts. @default ['*'] */
  readonly hosts?: string[];
}

/** Options of `addHttpsServer()`. */
export interface HttpsServerOptions {
  /** Port of the server (and of the Service). @default 443 */
  readonly port?: number;
  /** Hosts the server accepts (matched against SNI). @default ['*'] */
  readonly hosts?: string[];
  /** Name of the TLS secret, in the namespace of the gateway pods. */
  readonly credentialName: string;
  /** SIMPLE or MUTUAL TLS. @default HttpsMode.SIMPLE */
  readonly mode?: HttpsMode;
}

/** Options of `addHttpsRedirect()`. */
export interface HttpsRedirectOptions {
  /** Port of the plain-HTTP server that answers with a redirect to HTTPS. @default 80 */
  readonly port?: number;
  /** Hosts redirected. @default ['*'] */
  readonly hosts?: string[];
}

/** Options of `addTcpServer()`. */
export interface TcpServerOptions {
  /** Port of the server (and of the Service). */
  readonly port: number;
}

/** Options of `addTlsPassthroughServer()`. */
export interface TlsPassthroughServerOptions {
  /** Port of the server (and of the Service). @default 443 */
  readonly port?: number;
  /** SNI hosts the server accepts. */
  readonly hosts: string[];
}

/** Options of `addRoute()`. */
export interface RouteOptions {
  /** Host of the request (one the HTTP or HTTPS servers accept). @default '*' */
  readonly host?: string;
  /** Path prefix matched. @default '/' */
  readonly pathPrefix?: string;
  /** Backend Service host, for example "httpbin.default.svc.cluster.local". */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}

/** Options of `addTcpRoute()`. */
export interface TcpRouteOptions {
  /** Gateway port of the TCP server. */
  readonly port: number;
  /** Backend Service host. */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}

/** Options of `addTlsRoute()`. */
export interface TlsRouteOptions {
  /** Gateway port of the TLS passthrough server. @default 443 */
  readonly port?: number;
  /**
   * SNI hosts routed: names such as "db.example.com", wildcards such as "*.example.com", or "*" for every name.
   * With flavour gateway-api "*" is not accepted: a TLSRoute lists the names it matches.
   */
  readonly sniHosts: string[];
  /** Backend Service host. */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}

/** A server of the Istio Gateway as kept by the construct (rendered lazily). */
interface ServerEntry {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'TLS';
  readonly hosts: string[];
  readonly tls?: { [key: string]: unknown };
}

interface HttpRouteEntry { readonly pathPrefix: string; readonly backendHost: string; readonly backendPort: number }


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
  /** True for GatewayFlavour.GATEWAY_API. */
  private readonly gatewayApi: boolean;
  /** Backend namespaces other than the gateway's that routes refer to (each needs a ReferenceGrant). */
  private readonly grantedNamespaces = new Map<string, Set<string>>();

  /**
   * @param config resolved, validated settings (see `IngressGatewayConfig`)
   */
  protected constructor(scope: Construct, id: string, config: IngressGatewayConfig) {
    super(scope, id);
    try {
      this._config = config;
      this.istioVersion = config.istioVersion;
      this.gatewayApi = config.flavour === GatewayFlavour.GATEWAY_API;
      checkAnnotations('serviceAnnotations', config.serviceAnnotations);
      // A PROXY switch the load-balancer table cannot read is a warning here as in explain (the shared check).
      for (const f of checkLoadBalancerAnnotations(config, config.serviceAnnotations)) this.warn(`${f.message}; ${f.fix}`);
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
        const existing = config.existing;
        // Checked first: the gateway's namespace defaults to it, and the message must name what the user set.
        this.targetNamespace = checkDnsLabel('existing.namespace', existing.namespace ?? 'istio-system');
        this.targetSelector = checkLabels('existing.selector', existing.selector ?? { istio: 'ingressgateway' });
        this.serviceName = checkDnsLabel('existing.serviceName', existing.serviceName ?? 'istio-ingressgateway');
        checkDnsLabel('name', config.name);
        checkDnsLabel('namespace', config.namespace);
      } else {
        checkDnsLabel('name', config.name);
        checkDnsLabel('namespace', config.namespace);
        this.targetNamespace = config.namespace;
        this.targetSelector = { app: config.name, istio: config.name };
        this.serviceName = config.name;
      }

      this.gateway = this.gatewayApi ? this.renderGatewayApiGateway() : LibraryManifest.render(this, 'Resource', Gateway, {
        metadata: { name: config.name, namespace: config.namespace, annotations: this.gatewayAnnotations() },
        spec: {
          selector: this.targetSelector,
          servers: Lazy.any({ produce: () => this.renderServers() }),
        },
      });
      Topology.of(this).addGateway(this);
      joinTrace(this);
      // Checks of the servers run once per state of the topology (a server added changes it), not once per chart.
      Topology.of(this).addValidation(this, () => this.servers.length === 0 ? [`gateway "${config.name}" has no servers: call addHttpServer(), addHttpsServer(), addTcpServer() or addTlsPassthroughServer()`] : []);

      if (this.gatewayApi) {
        this.parameters = this.renderParameters();
      } else if (config.existing) {
        this.service = config.externalTrafficPolicy === ExternalTrafficPolicy.LOCAL ? this.renderServicePatch() : undefined;
      } else {
        this.renderIdentity();
        this.deployment = this.renderDeployment();
        this.service = this.renderService();
        this.renderAvailability();
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
    if (this.gatewayApi) this.newRedirectRoute(server);
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
      const vs = this.gatewayApi ? this.newHttpRoute(host, routes) : this.newVirtualService([host], () => ({ http: renderHttpRoutes(routes) }));
      entry = { vs, routes };
      this.httpRoutes.set(host, entry);
    }
    if (entry.routes.some(r => r.pathPrefix === pathPrefix)) {
      throw new Error(`addRoute pathPrefix "${pathPrefix}" is already routed for host "${host}": use one route per host and prefix`);
    }
    entry.routes.push(route);
    Topology.of(this).addValidation(this, () => this.checkServerFor('addRoute', ['HTTP', 'HTTPS'], host));
    return entry.vs;
  }

  /** Routes a TCP server's connections to a backend Service; returns the VirtualService. */
  public addTcpRoute(options: TcpRouteOptions): ApiObject {
    const port = checkPort('addTcpRoute port', options.port);
    const backend = this.backend('addTcpRoute', options.backendHost, options.backendPort, 'tcp');
    this.routeBackends.push({ host: backend.backendHost, protocol: 'TCP' });
    Topology.of(this).addValidation(this, () => this.checkServerFor('addTcpRoute', ['TCP'], undefined, port));
    if (this.gatewayApi) return this.newStreamRoute('addTcpRoute', port, [], backend);
    return this.newVirtualService(['*'], () => ({ tcp: [{ match: [{ port }], route: [{ destination: destination(backend) }] }] }));
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
    Topology.of(this).addValidation(this, () => sniHosts.flatMap(h => this.checkServerFor('addTlsRoute', ['TLS'], h, port)));
    if (this.gatewayApi) return this.newStreamRoute('addTlsRoute', port, sniHosts, backend);
    return this.newVirtualService(sniHosts, () => ({ tls: [{ match: [{ port, sniHosts }], route: [{ destination: destination(backend) }] }] }));
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

  /** The hops declared in front of the gateway. @default - not declared */
  public get trustChain(): TrustChain | undefined {
    return this._config.trustChain;
  }

  /** The gateway model, built from the servers added so far. */
  public gatewayModel(): GatewayModel | undefined {
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
    };
  }

  /**
   * The gateway as the trace reads it: its model and the facts of the Service this construct renders (its type and
   * annotations, and so what the load balancer does). @internal
   */
  public _tracedGateway(): TracedGateway {
    const model = this.gatewayModel()!;
    // Istio copies a Gateway API gateway's infrastructure annotations onto the Service it generates.
    const serviceAnnotations = this._config.existing ? {}
      : this.gatewayApi ? { 'proxy.istio.io/config': this.proxyConfigAnnotation(), ...this.renderedServiceAnnotations() } : this.renderedServiceAnnotations();
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

  /** The annotations of the gateway's Service as rendered (the Gateway API flavour: as the overlay shapes it). */
  private renderedServiceAnnotations(): { [key: string]: string } {
    const profile = this._config.profile;
    if (this.gatewayApi) {
      const extra = { ...this._config.serviceAnnotations, ...this.nodeAddressAcceptance() };
      return withSourceFact(profile, mergeAnnotations(profile.serviceAnnotations, extra), profile.serviceAnnotations);
    }
    return withSourceFact(profile, mergeAnnotations(profile.serviceAnnotations, {
      ...this._config.serviceAnnotations,
      ...this.nodeAddressAcceptance(),
      ...(this._config.trustChain ? { [TRUST_CHAIN_ANNOTATION]: this._config.trustChain.toAnnotationValue() } : {}),
    }), profile.serviceAnnotations);
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
    return this.listeners().map(l => toServerModel({ ...l.server, hosts: [l.hostname ?? '*'] }, l.server.port));
  }

  /** Gateways are not meshed workloads. */
  public workloadModel(): WorkloadModel | undefined {
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

  private addServer(server: ServerEntry, method: string): void {
    checkPort(`${method} port`, server.port);
    if (server.port === STATUS_PORT) {
      throw new Error(`${method} port ${server.port} is not allowed: it is the gateway's status port; choose another port`);
    }
    if (this.gatewayApi) {
      const nsHost = server.hosts.find(h => h.includes('/'));
      if (nsHost !== undefined) {
        throw new Error(`${method} hosts ${JSON.stringify(nsHost)} is not allowed with flavour gateway-api: a listener hostname has no namespace part; write the host alone, such as "app.example.com"`);
      }
      server.hosts.forEach(h => checkGatewayApiHostname(`${method} hosts`, h));
      const sameHost = this.servers.find(s => s.port === server.port && s.hosts.some(h => server.hosts.includes(h)));
      if (sameHost) {
        throw new Error(`${method} port ${server.port} hosts ${JSON.stringify(server.hosts)} overlap a server added before on that port: with flavour gateway-api each port and hostname is one listener; add the hosts to one server, or use another port`);
      }
    }
    const sharedListener = this.servers.find(s => s.port !== server.port && this.podPort(s.port) === this.podPort(server.port));
    if (sharedListener) {
      throw new Error(`${method} port ${server.port} is not allowed on gateway "${this.node.path}": the pod listens on ${gatewayListenerPort(server.port)} for it, as for the server on port ${sharedListener.port} (ports below 1024 listen on port + 8000); choose another port`);
    }
    const clash = this.servers.find(s => s.port === server.port && s.protocol !== server.protocol);
    if (clash) {
      throw new Error(`${method} port ${server.port} already has a ${clash.protocol} server: one port serves one protocol, so give the ${server.protocol} server another port`);
    }
    const sameTls = this.servers.find(s => s.port === server.port && (s.tls?.httpsRedirect === true) !== (server.tls?.httpsRedirect === true)
      && s.hosts.some(h => server.hosts.includes(h)));
    if (sameTls) {
      throw new Error(`${method} port ${server.port} hosts ${JSON.stringify(server.hosts)} already have ${sameTls.tls?.httpsRedirect ? 'an HTTPS redirect' : 'a plain HTTP server'}: a host is either served or redirected on a port, not both`);
    }
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

  private renderServers(): any[] {
    const counts = new Map<string, number>();
    return this.servers.map(s => {
      const base = `${s.protocol.toLowerCase()}-${s.port}`;
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      return {
        port: { number: s.port, name: n === 0 ? base : `${base}-${n}`, protocol: s.protocol },
        hosts: [...s.hosts],
        ...(s.tls ? { tls: { ...s.tls } } : {}),
      };
    });
  }

  /** A route's backend: checked, a short host resolved in the route's namespace, and its protocol recorded for the Service check. */
  private backend(method: string, host: string, port: number, protocol: 'http' | 'tcp' | 'tls'): { backendHost: string; backendPort: number } {
    const checked = checkBackend(method, host, port);
    const backendHost = resolveBackendHost(this, method, checked.backendHost, this._config.namespace);
    if (this.gatewayApi) this.checkGatewayApiBackend(method, backendHost, protocol);
    claimTraffic(this, { host: backendHost, port: checked.backendPort, protocol, by: `${method} on gateway "${this._config.name}"` });
    return { backendHost, backendPort: checked.backendPort };
  }

  private checkServerFor(method: string, protocols: string[], host?: string, port?: number): string[] {
    const found = this.servers.some(s => protocols.includes(s.protocol) && (port === undefined || s.port === port)
      && (host === undefined || s.hosts.some(h => hostMatches(h, host))));
    if (found) return [];
    return [`${method} ${host !== undefined ? `host "${host}" ` : ''}${port !== undefined ? `port ${port} ` : ''}has no ${protocols.join(' or ')} server on gateway "${this._config.name}" that accepts it: add one with ${protocols.includes('HTTP') ? 'addHttpServer() or addHttpsServer()' : protocols.includes('TCP') ? 'addTcpServer()' : 'addTlsPassthroughServer()'}`];
  }

  /** A Gateway API route reaches Services only (by name); another namespace's Service needs a ReferenceGrant there. */
  private checkGatewayApiBackend(method: string, backendHost: string, protocol: 'http' | 'tcp' | 'tls'): void {
    const service = serviceOfHost(backendHost);
    if (!service) {
      throw new Error(`${method} backendHost "${backendHost}" is not allowed with flavour gateway-api: a route's backendRefs name a Kubernetes Service, so give a host such as "httpbin.default.svc.cluster.local"; for other hosts use GatewayFlavour.ISTIO`);
    }
    if (service.namespace === this._config.namespace) return;
    let kinds = this.grantedNamespaces.get(service.namespace);
    if (!kinds) {
      kinds = new Set();
      this.grantedNamespaces.set(service.namespace, kinds);
      const granted = kinds;
      LibraryManifest.render(this, `ReferenceGrant-${service.namespace}`, ReferenceGrantV1Beta1, {
        metadata: { name: `${this._config.namespace}-${this._config.name}-routes`.slice(0, 63).replace(/-+$/, ''), namespace: service.namespace },
        spec: Lazy.any({
          produce: () => ({
            from: [...granted].sort().map(kind => ({ group: GATEWAY_API_GROUP, kind, namespace: this._config.namespace })),
            to: [{ group: '', kind: 'Service' }],
          }),
        }),
      });
    }
    kinds.add(protocol === 'http' ? 'HTTPRoute' : protocol === 'tcp' ? 'TCPRoute' : 'TLSRoute');
  }

  /** The Gateway API Gateway: listeners from the servers, the ConfigMap by parametersRef, the topology annotation. */
  private renderGatewayApiGateway(): ApiObject {
    const { name, namespace } = this._config;
    const proxyConfig = Lazy.any({ produce: () => this.proxyConfigAnnotation() }) as unknown as string;
    const annotations: { [key: string]: string } = { [ISTIO_VERSION_ANNOTATION]: this.istioVersion.label, 'proxy.istio.io/config': proxyConfig };
    if (this._config.trustChain) annotations[TRUST_CHAIN_ANNOTATION] = this._config.trustChain.toAnnotationValue();
    return LibraryManifest.render(this, 'Resource', KubeGateway, {
      metadata: { name, namespace, annotations },
      spec: {
        gatewayClassName: ISTIO_GATEWAY_CLASS,
        // Set, infrastructure.annotations replace the Gateway's annotations on the generated pods: it carries the one
        // the pods need, so the outcome is the same whether Istio copies metadata annotations or not.
        infrastructure: {
          annotations: { 'proxy.istio.io/config': proxyConfig },
          parametersRef: { group: '', kind: 'ConfigMap', name: parametersName(name) },
        },
        listeners: Lazy.any({ produce: () => renderListeners(this.listeners()) }),
      },
    });
  }

  private renderParameters(): ApiObject {
    const { name, namespace, profile, autoscaling } = this._config;
    const availability = this.checkAvailability();
    if (availability.minReplicas < 2) this.warnSingleReplica(availability.minReplicas);
    const annotations = this.renderedServiceAnnotations();
    const { minReplicas, maxReplicas, targetCpuUtilization } = availability;
    return LibraryManifest.render(this, 'Parameters', kplus.k8s.KubeConfigMap, {
      metadata: { name: parametersName(name), namespace },
      data: renderParameterOverlays({
        gatewayName: name,
        externalTrafficPolicy: this._config.externalTrafficPolicy,
        loadBalancerClass: profile.loadBalancerClass,
        serviceAnnotations: annotations,
        replicas: this._config.replicas,
        autoscaling: autoscaling ? { minReplicas, maxReplicas: maxReplicas!, targetCpuUtilization: targetCpuUtilization! } : undefined,
        containerEnv: this._config.containerEnv,
      }),
    });
  }

  private listeners(): GatewayApiListener[] {
    return listenersOf(this.servers);
  }

  /** `parentRefs` to the listeners of `protocols` that accept `host` (on `port`), redirects left out. */
  private parentRefs(protocols: string[], host?: string, port?: number): any[] {
    const { name, namespace } = this._config;
    return this.listeners()
      .filter(l => isServingListener(l, protocols) && (port === undefined || l.server.port === port)
        && (host === undefined || hostMatches(l.hostname ?? '*', host)))
      .map(l => ({ group: GATEWAY_API_GROUP, kind: 'Gateway', name, namespace, sectionName: l.name }));
  }

  private newHttpRoute(host: string, routes: HttpRouteEntry[]): ApiObject {
    const index = this.routeCount++;
    return LibraryManifest.render(this, `Route${index}`, HttpRoute, {
      metadata: { name: `${this._config.name}-route-${index}`, namespace: this._config.namespace },
      spec: Lazy.any({
        produce: () => ({
          parentRefs: this.parentRefs(['HTTP', 'HTTPS'], host),
          ...(host === '*' ? {} : { hostnames: [host] }),
          rules: [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length).map(r => ({
            matches: [{ path: { type: 'PathPrefix', value: r.pathPrefix } }],
            backendRefs: [backendRef(serviceOfHost(r.backendHost)!, r.backendPort)],
          })),
        }),
      }),
    });
  }

  private newRedirectRoute(server: ServerEntry): ApiObject {
    const { name, namespace } = this._config;
    const index = this.routeCount++;
    return LibraryManifest.render(this, `Route${index}`, HttpRoute, {
      metadata: { name: `${name}-route-${index}`, namespace },
      spec: Lazy.any({
        produce: () => ({
          parentRefs: this.listeners().filter(l => l.server === server).map(l => ({ group: GATEWAY_API_GROUP, kind: 'Gateway', name, namespace, sectionName: l.name })),
          rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
        }),
      }),
    });
  }

  /** A TCPRoute (no hosts) or TLSRoute (SNI hosts) in the version the Istio release reads. */
  private newStreamRoute(method: string, port: number, sniHosts: string[], backend: { backendHost: string; backendPort: number }): ApiObject {
    const index = this.routeCount++;
    const tls = method === 'addTlsRoute';
    const props = {
      metadata: { name: `${this._config.name}-route-${index}`, namespace: this._config.namespace },
      spec: Lazy.any({
        produce: () => ({
          parentRefs: this.parentRefs([tls ? 'TLS' : 'TCP'], undefined, port)
            .filter(ref => !tls || sniHosts.some(h => this.listeners().some(l => l.name === ref.sectionName && hostMatches(l.hostname ?? '*', h)))),
          ...(tls ? { hostnames: [...sniHosts] } : {}),
          rules: [{ backendRefs: [backendRef(serviceOfHost(backend.backendHost)!, backend.backendPort)] }],
        }),
      }),
    };
    const id = `Route${index}`;
    const alphaWarning = gatewayApiAlphaRouteWarning(this.istioVersion, method, this._config.name, tls, port);
    if (alphaWarning) this.warn(alphaWarning);
    if (tls) {
      const tlsRoute = this.istioVersion.tlsRouteApiVersion.endsWith('/v1') ? TlsRoute : TlsRouteV1Alpha2;
      return LibraryManifest.render(this, id, tlsRoute, props);
    }
    const tcpRoute = this.istioVersion.tcpRouteApiVersion.endsWith('/v1') ? TcpRoute : TcpRouteV1Alpha2;
    return LibraryManifest.render(this, id, tcpRoute, props);
  }

  private newVirtualService(hosts: string[], spec: () => { [key: string]: unknown }): ApiObject {
    const index = this.routeCount++;
    return LibraryManifest.render(this, `Route${index}`, VirtualService, {
      metadata: { name: `${this._config.name}-route-${index}`, namespace: this._config.namespace },
      spec: Lazy.any({ produce: () => ({ hosts, gateways: [`${this._config.namespace}/${this._config.name}`], ...spec() }) }),
    });
  }

  private renderIdentity(): void {
    const { name, namespace } = this._config;
    LibraryManifest.render(this, 'ServiceAccount', kplus.k8s.KubeServiceAccount, { metadata: { name, namespace } });
    // The gateway reads the TLS secrets named by credentialName from its own namespace (SDS).
    LibraryManifest.render(this, 'SecretReader', kplus.k8s.KubeRole, {
      metadata: { name: `${name}-sds`, namespace },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
    });
    LibraryManifest.render(this, 'SecretReaderBinding', kplus.k8s.KubeRoleBinding, {
      metadata: { name: `${name}-sds`, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-sds` },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
  }

  private renderDeployment(): ApiObject {
    const { name, namespace, autoscaling } = this._config;
    const labels = this.targetSelector;
    const env = Object.entries(this._config.containerEnv).map(([key, value]) => ({ name: key, value }));
    return LibraryManifest.render(this, 'Deployment', kplus.k8s.KubeDeployment, {
      metadata: { name, namespace, labels },
      spec: {
        // With an autoscaler the Deployment leaves the count to it, so that re-applying does not reset it.
        replicas: autoscaling ? undefined : this._config.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            annotations: {
              'inject.istio.io/templates': 'gateway',
              'proxy.istio.io/config': Lazy.any({ produce: () => this.proxyConfigAnnotation() }) as unknown as string,
            },
            labels: { ...labels, 'sidecar.istio.io/inject': 'true' },
          },
          spec: {
            serviceAccountName: name,
            topologySpreadConstraints: [
              // With Local, nodes without a gateway pod drop traffic: spread over nodes strictly, zones best effort.
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
            ],
            containers: [{ name: 'istio-proxy', image: 'auto', ...(env.length > 0 ? { env } : {}) }],
          },
        },
      },
    });
  }

  private renderService(): ApiObject {
    const { name, namespace, profile } = this._config;
    const annotations = this.renderedServiceAnnotations();
    return LibraryManifest.render(this, 'Service', kplus.k8s.KubeService, {
      metadata: { name, namespace, labels: this.targetSelector, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: this._config.externalTrafficPolicy,
        ...(profile.loadBalancerClass ? { loadBalancerClass: profile.loadBalancerClass } : {}),
        selector: this.targetSelector,
        ports: Lazy.any({ produce: () => this.renderServicePorts() }),
      },
    });
  }

  private renderServicePorts(): ApiShaped<kplus.k8s.ServicePort>[] {
    const ports: ApiShaped<kplus.k8s.ServicePort>[] = [{ name: 'status-port', port: STATUS_PORT, targetPort: STATUS_PORT, protocol: 'TCP' }];
    for (const port of this.serverPorts()) {
      const server = this.servers.find(s => s.port === port)!;
      ports.push({ name: `${server.protocol.toLowerCase()}-${port}`, port, targetPort: gatewayListenerPort(port), protocol: 'TCP' });
    }
    return ports;
  }

  /** A partial Service for `kubectl apply --server-side`: it owns only `spec.externalTrafficPolicy`. */
  private renderServicePatch(): ApiObject {
    return new ApiObject(this, 'ServicePatch', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: this.serviceName, namespace: this.targetNamespace },
      spec: { externalTrafficPolicy: this._config.externalTrafficPolicy },
    });
  }

  /** The replica bounds, checked: the autoscaler's minimum (else `replicas`), maximum and CPU target. */
  private checkAvailability(): { minReplicas: number; maxReplicas?: number; targetCpuUtilization?: number } {
    const { replicas, autoscaling } = this._config;
    const minReplicas = autoscaling?.minReplicas === undefined ? replicas
      : checkInteger('autoscaling.minReplicas', autoscaling.minReplicas, 1, 1000, 'scaling the gateway to zero drops all ingress traffic');
    if (!autoscaling) return { minReplicas };
    return {
      minReplicas,
      maxReplicas: checkInteger('autoscaling.maxReplicas', autoscaling.maxReplicas, Math.max(1, minReplicas), 1000, 'it must be at least autoscaling.minReplicas'),
      targetCpuUtilization: checkInteger('autoscaling.targetCpuUtilization', autoscaling.targetCpuUtilization ?? 80, 1, 100),
    };
  }

  private warnSingleReplica(minReplicas: number): void {
    this.warn(`replicas ${minReplicas}: a single gateway pod is a single point of failure${this._config.externalTrafficPolicy === ExternalTrafficPolicy.LOCAL ? ' and, with externalTrafficPolicy Local, every other node drops the traffic' : ''}; use 2 or more replicas (no PodDisruptionBudget is emitted for 1)`);
  }

  private renderAvailability(): void {
    const { name, namespace, autoscaling } = this._config;
    const { minReplicas, maxReplicas, targetCpuUtilization } = this.checkAvailability();
    if (minReplicas >= 2) {
      LibraryManifest.render(this, 'DisruptionBudget', kplus.k8s.KubePodDisruptionBudget, {
        metadata: { name, namespace },
        spec: { minAvailable: 1, selector: { matchLabels: this.targetSelector } },
      });
    }
    if (autoscaling) {
      LibraryManifest.render(this, 'Autoscaler', kplus.k8s.KubeHorizontalPodAutoscalerV2, {
        metadata: { name, namespace },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas,
          maxReplicas: maxReplicas!,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCpuUtilization! } } }],
        },
      });
    }
    if (minReplicas < 2) this.warnSingleReplica(minReplicas);
  }
}

/** Name of a Gateway API gateway's parametersRef ConfigMap. */
function parametersName(gatewayName: string): string {
  return `${gatewayName}-options`;
}

/** A Gateway API hostname: lower-case DNS labels, optionally after a leading `*.`; `*` stands for none. */
const GATEWAY_API_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkGatewayApiHostname(property: string, host: string): void {
  if (host === '*' || GATEWAY_API_HOSTNAME.test(host)) return;
  throw new Error(`${property} ${JSON.stringify(host)} is not allowed with flavour gateway-api: a Gateway API hostname is lower-case DNS labels, optionally after a leading "*." (no upper case, no "*" elsewhere); write it as ${JSON.stringify(host.toLowerCase())} if that is the host meant`);
}

/** A TLSRoute's hostnames take no bare "*" (and v1 requires at least one), so it cannot say "every SNI name". */
function checkGatewayApiSniHost(host: string): void {
  if (host === '*') {
    throw new Error('addTlsRoute sniHosts "*" is not allowed with flavour gateway-api: a TLSRoute matches only the SNI names it lists, and its hostnames take no bare "*"; list the names, such as ["db.example.com"] or ["*.example.com"], or pass every connection on the port through with addTcpServer() and addTcpRoute()');
  }
  checkGatewayApiHostname('addTlsRoute sniHosts', host);
}

function checkHosts(property: string, hosts: string[] | undefined): string[] {
  const list = hosts ?? ['*'];
  if (!Array.isArray(list)) {
    throw new Error(`${property} ${JSON.stringify(hosts)} is not a list: give hosts as a list, such as ["app.example.com"] or ["*"]`);
  }
  if (list.length === 0) {
    throw new Error(`${property} ${JSON.stringify(hosts)} is empty: give at least one host, such as ["app.example.com"] or ["*"]`);
  }
  return list.map(h => checkHostname(property, h, true));
}

function checkBackend(method: string, host: string, port: number): { backendHost: string; backendPort: number } {
  if (typeof host !== 'string' || host.includes('*')) {
    throw new Error(`${method} backendHost ${JSON.stringify(host)} is not allowed: give a Service host such as "httpbin.default.svc.cluster.local", without wildcards`);
  }
  return { backendHost: checkHostname(`${method} backendHost`, host), backendPort: checkPort(`${method} backendPort`, port) };
}

function destination(backend: { backendHost: string; backendPort: number }): any {
  return { host: backend.backendHost, port: { number: backend.backendPort } };
}

function renderHttpRoutes(routes: HttpRouteEntry[]): any[] {
  // Istio takes the first match: the longest prefix goes first so that "/" does not shadow "/api".
  return [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)
    .map(r => ({ match: [{ uri: { prefix: r.pathPrefix } }], route: [{ destination: destination(r) }] }));
}

function hostMatches(serverHost: string, host: string): boolean {
  const h = serverHost.includes('/') ? serverHost.slice(serverHost.indexOf('/') + 1) : serverHost;
  if (h === '*' || host === '*' || h === host) return true;
  if (h.startsWith('*.')) return host.endsWith(h.slice(1));
  if (host.startsWith('*.')) return h.endsWith(host.slice(1));
  return false;
}

function toServerModel(s: ServerEntry, targetPort: number): ServerModel {
  const mode = s.tls?.mode;
  return {
    port: s.port,
    targetPort,
    protocol: s.protocol,
    hosts: [...s.hosts],
    ...(typeof mode === 'string' ? { tlsMode: mode } : {}),
  };
}

/**
 * `annotations` plus, when the load-balancer table cannot tell from `rendered` (the Service's annotations) whether
 * the load balancer keeps the client as the packet source, the library's annotation saying what the profile knows.
 */
function withSourceFact(profile: LoadBalancerProfile, annotations: { [key: string]: string },
  rendered: { [key: string]: string }): { [key: string]: string } {
  const recognised = recogniseLoadBalancer({ ...rendered, ...annotations }, profile.loadBalancerClass);
  if (recognised.preservesSourceWithoutLocal === profile.preservesSourceWithoutLocal) return annotations;
  return { ...annotations, [LB_PRESERVES_SOURCE_ANNOTATION]: String(profile.preservesSourceWithoutLocal) };
}

/** Profile annotations overlaid by extra ones; comma-separated list annotations are merged, not replaced. */
function mergeAnnotations(base: { [key: string]: string }, extra: { [key: string]: string }): { [key: string]: string } {
  const merged = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    merged[key] = LIST_ANNOTATIONS.includes(key) && merged[key]
      ? [...new Set([...merged[key].split(','), ...value.split(',')].map(v => v.trim()).filter(v => v))].join(',')
      : value;
  }
  return merged;
}
