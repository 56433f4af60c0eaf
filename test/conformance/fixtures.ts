import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Duration, Testing, Yaml } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Expectations, expectationsOf } from './expectations';
import { declaredProxies, PredictedProxy } from './model-prediction';
import { buildApp } from '../../examples/seed-scenarios/main';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, GatewayFlavour, InterceptionMode, ISTIO_VERSION_CONTEXT_KEY, IstioVersion, MeshWorkload,
  PolicyAction, PreservedIngressGateway, ProxyProtocolGateway, ProxyProtocolMode, ProxyProtocolVersion, SourceIpPolicy, TproxyWorkload,
  WorkloadSource, Waypoint, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { synthAndValidate } from '../harness';

/*
 * The object sets the Istio conformance run (conformance/istio) reads: every chart of the example app, and
 * scenarios that the example does not cover. Each set is what one cluster would hold; plain Deployments and
 * Services stand for the user's own workloads, so that both ends of every setting exist.
 */

/** The repository's conformance output folder (git-ignored). */
export const CONFORMANCE_OUT = path.join(__dirname, '..', '..', 'conformance', 'out');
/**
 * The istiod pin a run is for (`CONFORMANCE_PIN`): unset for conformance/istio (the sets are synthesised for the
 * default release), `1.30` for conformance/istio-1.30 (every construct made for Istio 1.30).
 */
export const CONFORMANCE_PIN: IstioVersion | undefined = process.env.CONFORMANCE_PIN ? IstioVersion.of(process.env.CONFORMANCE_PIN) : undefined;
const PIN_SUFFIX = CONFORMANCE_PIN ? `-${CONFORMANCE_PIN.label}` : '';
/** Where the object sets go, one folder per set. */
export const FIXTURES_DIR = path.join(CONFORMANCE_OUT, `fixtures${PIN_SUFFIX}`);
/** Where the Go run writes one JSON per proxy, one folder per set. */
export const ISTIO_OUT_DIR = path.join(CONFORMANCE_OUT, `istio${PIN_SUFFIX}`);

/** A chart for one set, made for `istioVersion` when given (the context key), else for the default release. */
function setChart(istioVersion?: IstioVersion): Chart {
  const chart = Testing.chart();
  if (istioVersion) chart.node.setContext(ISTIO_VERSION_CONTEXT_KEY, istioVersion.label);
  return chart;
}

/** A policy as its construct declared it. */
export interface DeclaredPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly action: PolicyAction;
  readonly field: ClientIpField;
  readonly negated: boolean;
  readonly cidrs: string[];
}

/**
 * What a Gateway API gateway of a scenario must get from istiod: the automated deployment's Service and the
 * listeners of its pod. Written by hand in the scenario until the library's Gateway API constructs declare it.
 */
export interface ExpectedGatewayApiGateway {
  /** The Gateway's namespace and name. */
  readonly namespace: string;
  readonly gateway: string;
  /** The rendered Service. */
  readonly serviceType: string;
  readonly externalTrafficPolicy: string;
  readonly ipFamilyPolicy: string;
  /** X-Forwarded-For hops every HCM trusts. */
  readonly trustedHops: number;
  /** The PROXY listener filter on every listener: none, strict or optional. */
  readonly proxyProtocol: string;
  /** PROXY on the status port (health checks): none or optional. */
  readonly statusPortProxyProtocol: string;
  /** Listener ports istiod must generate. */
  readonly listenerPorts: number[];
  /** RBAC CIDR principals every listener must carry, as `ACTION field cidr` (field: remote_ip or direct_remote_ip). */
  readonly rbac: string[];
}

/** One object set: the manifests (and their YAML text), and what their constructs declared. */
export interface FixtureSet {
  readonly name: string;
  readonly manifests: any[];
  /** The YAML as written, for sets read from files. @default - cdk8s's YAML of `manifests` */
  readonly yaml?: string;
  readonly declaredPolicies: DeclaredPolicy[];
  readonly declaredProxies: PredictedProxy[];
  /** Gateway API gateways and what istiod must make of them. @default - none */
  readonly gatewayApi?: ExpectedGatewayApiGateway[];
  /** What istiod must generate for each proxy, from the trace over the constructs' model (expectations.json). */
  readonly expectations: Expectations;
  /** The ids of the example app's charts the set is made of (declared.json `charts`). @default - its own chart */
  readonly charts?: string[];
}

const TCP_BACKEND = 'tcp-echo.apps.svc.cluster.local';

/** A user's Deployment and Service (not made by the library): the other end of a route, filter or policy. */
function userWorkload(chart: Chart, name: string, namespace: string, ports: number[], annotations: { [key: string]: string } = {}, portProtocol = 'http'): void {
  const labels = { app: name };
  new ApiObject(chart, `${namespace}-${name}-deployment`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations },
        spec: { containers: [{ name, image: 'registry.k8s.io/echoserver:1.10', ports: ports.map(p => ({ containerPort: p })) }] },
      },
    },
  });
  new ApiObject(chart, `${namespace}-${name}-service`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: labels, ports: ports.map(p => ({ name: `${portProtocol}-${p}`, port: p, targetPort: p })) },
  });
}

function tcpGateway(chart: Chart, mode: ProxyProtocolMode, ports: number[], proxyProtocolPorts?: number[]): ProxyProtocolGateway {
  const gateway = new ProxyProtocolGateway(chart, 'Gateway', { proxyProtocolMode: mode, proxyProtocolPorts, inClusterCallers: mode !== ProxyProtocolMode.STRICT });
  for (const port of ports) {
    gateway.addTcpServer({ port });
    gateway.addTcpRoute({ port, backendHost: TCP_BACKEND, backendPort: 9000 });
  }
  userWorkload(chart, 'tcp-echo', 'apps', [9000], {}, 'tcp');
  return gateway;
}

/** Scenarios beyond the example app: PROXY modes, filter scopes, and policies on both fields with both actions. */
const SCENARIOS: { [name: string]: (chart: Chart) => void } = {
  'proxy-protocol-optional-every-port': chart => {
    tcpGateway(chart, ProxyProtocolMode.OPTIONAL, [9000, 9100]);
  },
  'proxy-protocol-optional-one-port': chart => {
    tcpGateway(chart, ProxyProtocolMode.OPTIONAL, [9000, 9100], [9000]);
  },
  'proxy-protocol-strict-one-port': chart => {
    tcpGateway(chart, ProxyProtocolMode.STRICT_PER_PORT, [9000, 9100], [9000]);
  },
  'proxy-protocol-strict-tls-passthrough-port': chart => {
    const gateway = new ProxyProtocolGateway(chart, 'Gateway', {
      proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [443], inClusterCallers: true,
    });
    gateway.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gateway.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
    gateway.addTcpServer({ port: 9000 });
    gateway.addTcpRoute({ port: 9000, backendHost: TCP_BACKEND, backendPort: 9000 });
    userWorkload(chart, 'db', 'data', [5432], {}, 'tls');
    userWorkload(chart, 'tcp-echo', 'apps', [9000], {}, 'tcp');
  },
  'proxy-protocol-strict-http-policies': chart => {
    const gateway = new ProxyProtocolGateway(chart, 'Gateway', { inClusterCallers: false });
    gateway.addHttpServer({ hosts: ['shop.example.com'] });
    gateway.addRoute({ host: 'shop.example.com', backendHost: 'shop.apps.svc.cluster.local', backendPort: 8080 });
    gateway.allowFrom(['198.51.100.0/24']);
    gateway.denyFrom(['198.51.100.7']);
    userWorkload(chart, 'shop', 'apps', [8080]);
  },
  'proxy-protocol-to-backend-both-sides': chart => {
    const gateway = new ProxyProtocolGateway(chart, 'Gateway', { inClusterCallers: false });
    gateway.addTcpServer({ port: 9000 });
    gateway.addTcpRoute({ port: 9000, backendHost: 'svc-b.apps.svc.cluster.local', backendPort: 9000 });
    gateway.addProxyProtocolBackend('SvcB', { host: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, port: 9000, version: ProxyProtocolVersion.V2 });
    userWorkload(chart, 'svc-b', 'apps', [9000], {}, 'tcp');
  },
  'attach-installed-gateway-policies': chart => {
    const gateway = PreservedIngressGateway.attach(chart, 'Gateway', { selector: { istio: 'ingressgateway' }, namespace: 'istio-system' });
    gateway.addHttpServer({ hosts: ['web.example.com'] });
    gateway.addRoute({ host: 'web.example.com', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
    gateway.allowFrom(['203.0.113.0/24', '2001:db8::/32']);
    gateway.denyFrom(['203.0.113.66'], { negate: false });
    userWorkload(chart, 'web', 'apps', [8080]);
  },
  'gateway-trusted-hops-policies': chart => {
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 1 });
    gateway.addHttpServer({ hosts: ['web.example.com'] });
    gateway.addRoute({ host: 'web.example.com', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
    gateway.allowFrom(['192.0.2.0/24']);
    gateway.denyFrom(['10.1.0.0/16'], { field: ClientIpField.IP_BLOCKS });
    gateway.denyFrom(['192.0.2.128/25'], { negate: true, name: 'deny-outside' });
    userWorkload(chart, 'web', 'apps', [8080]);
  },
  'xff-mesh-wide': chart => {
    new XffSidecarFilter(chart, 'Xff', { trust: XffTrust.trustedHops(1), scope: XffFilterScope.MESH });
    userWorkload(chart, 'orders', 'shop', [8080]);
    userWorkload(chart, 'billing', 'finance', [8080]);
    const orders = MeshWorkload.fromLabels(chart, 'Orders', { labels: { app: 'orders' }, namespace: 'shop' });
    orders.denyFrom(['198.51.100.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
  },
  'xff-namespace-wide': chart => {
    new XffSidecarFilter(chart, 'Xff', { trust: XffTrust.useRemoteAddress(), scope: XffFilterScope.NAMESPACE, namespace: 'shop' });
    userWorkload(chart, 'orders', 'shop', [8080]);
    userWorkload(chart, 'billing', 'finance', [8080]);
  },
  'xff-trusted-cidrs-one-port-tproxy': chart => {
    const workload = new TproxyWorkload(chart, 'Httpbin', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', namespace: 'web', port: 8000, servicePort: 8000 }),
    });
    new ApiObject(chart, 'MetricsService', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'httpbin-metrics', namespace: 'web' },
      spec: { selector: { app: 'httpbin' }, ports: [{ name: 'http-metrics', port: 9090, targetPort: 9090 }] },
    });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedCidrs(['172.17.0.0/16', '10.244.0.0/16']), portNumber: 8000 });
    workload.allowFrom(['10.32.0.0/14'], { field: ClientIpField.IP_BLOCKS });
    workload.denyFrom(['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS, ports: [8000] });
  },
  'sidecar-redirect-policies': chart => {
    const workload = new TproxyWorkload(chart, 'Echo', {
      interceptionMode: InterceptionMode.REDIRECT,
      source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.10', name: 'echo', namespace: 'web', port: 8080, servicePort: 80 }),
    });
    workload.allowFrom(['10.32.0.0/14']);
    workload.denyFrom(['10.33.0.0/16'], { negate: true });
  },
  // Per-client rate limits (issue 27): one on the gateway, one on a TPROXY sidecar behind it; the user workload next
  // to them has none (the stage checks that every other proxy has neither the filter nor the action).
  'rate-limit-gateway-and-sidecar': chart => {
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    gateway.addHttpServer({ hosts: ['echo.example.com'] });
    gateway.addRoute({ host: 'echo.example.com', backendHost: 'echo.web.svc.cluster.local', backendPort: 80 });
    gateway.rateLimitPerClient({ requests: 10, per: Duration.seconds(1), burst: 20 });
    const workload = new TproxyWorkload(chart, 'Echo', {
      source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.10', name: 'echo', namespace: 'web', port: 8080, servicePort: 80 }),
    });
    workload.rateLimitPerClient({ requests: 5, per: Duration.seconds(10), maxClients: 100 });
    userWorkload(chart, 'orders', 'web', [8080]);
  },
  // A Gateway API gateway (issue 27): the client-address header and the per-client limit come as EnvoyFilters on the
  // pod istiod renders (the header a ROUTE_CONFIGURATION patch, not the HTTPRoute).
  'gateway-api-client-header-and-rate-limit': chart => {
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    gateway.addHttpServer({ hosts: ['web.example.com'] });
    gateway.addRoute({ host: 'web.example.com', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
    gateway.clientAddressHeader({ name: 'x-client-ip' });
    gateway.rateLimitPerClient({ requests: 100, per: Duration.minutes(1), burst: 150 });
    userWorkload(chart, 'web', 'apps', [8080]);
  },
  // Ambient (issue 26): a waypoint for a namespace's Services with a policy on the waypoint and one on a Service's
  // traffic through it; ztunnel's policies on an ambient workload of another namespace.
  'ambient-waypoint-service-and-ztunnel': chart => {
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'shop' });
    new AmbientNamespace(chart, 'Shop', { name: 'shop', waypoint, ingressUseWaypoint: true });
    userWorkload(chart, 'orders', 'shop', [8080]);
    // A Service whose workload the app models: its waypoint is the workload's.
    AmbientWorkload.fromLabels(chart, 'Orders', { labels: { app: 'orders' }, namespace: 'shop', name: 'orders' });
    waypoint.allowFrom(['198.51.100.0/24', '10.244.0.0/16']);
    waypoint.forService('orders').denyFrom(['198.51.100.66']);
    // A Service whose workload the app does not model (the user's own Deployment): its traffic goes through the
    // waypoint the namespace names, as istiod binds it, so the policy on it is the waypoint's.
    userWorkload(chart, 'payments', 'shop', [8080]);
    waypoint.forService('payments').denyFrom(['198.51.100.77']);
    new AmbientNamespace(chart, 'Data', { name: 'data' });
    userWorkload(chart, 'db', 'data', [5432], {}, 'tcp');
    const db = AmbientWorkload.fromLabels(chart, 'Db', { labels: { app: 'db' }, namespace: 'data', name: 'db' });
    db.allowFrom(['10.244.0.0/16'], { ports: [5432] });
    db.denyFrom(['10.0.0.0/8'], { negate: true });
  },
};

/*
 * Gateway API scenarios, written as plain objects until the library's Gateway API constructs land: gateways of
 * class istio whose automated deployment istiod renders from the Gateway and its parametersRef ConfigMap.
 */

const INGRESS_NS = 'ingress';
const GATEWAY_API = 'gateway.networking.k8s.io';

/** A self-signed certificate and key for web.example.com (test only), so that istiod accepts the HTTPS listener. */
const TLS_CERT = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJwekNDQVUyZ0F3SUJBZ0lVT2QwcnZ2ZnRaYmk3Zi85OEhIUnF6L1R2QXEwd0NnWUlLb1pJemowRUF3SXcKR2pFWU1CWUdBMVVFQXd3UGQyVmlMbVY0WVcxd2JHVXVZMjl0TUNBWERUSTJNVEV6TURBME1EUXhOMW9ZRHpJeApNall4TVRBMk1EUXdOREUzV2pBYU1SZ3dGZ1lEVlFRRERBOTNaV0l1WlhoaGJYQnNaUzVqYjIwd1dUQVRCZ2NxCmhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBUWoreTV6QzM0VHIzeTRlWkRmZnp6MVFORFAzTWIzVXhnRk9HeVEKaGpOU29wd0wzL01ZT1lkZ2laQ3E5K1J2QlQvVHhZVlFXVEY4WFJwbEJDcmpobnI0bzI4d2JUQWRCZ05WSFE0RQpGZ1FVMjdHazgrYXlmc2Z5c29PQndreVlMT2hSUHNRd0h3WURWUjBqQkJnd0ZvQVUyN0drOCtheWZzZnlzb09CCndreVlMT2hSUHNRd0R3WURWUjBUQVFIL0JBVXdBd0VCL3pBYUJnTlZIUkVFRXpBUmdnOTNaV0l1WlhoaGJYQnMKWlM1amIyMHdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWhBTHZvbDRmVnIxbnEwSm1MLzU2VkJQYkJib3NWL3JjQQpQRys1L2ZUcW5TSjRBaUJBcldkVUJXUzQ5bVdzdnhweW5QQzlWdm5IaURHdmozZWtzUzZSck9yeFRBPT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=';
const TLS_KEY = 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ25rNE5PeCt0aFlLNEt4RUsKM2tXSDA1K2xMQlBpak5ETHFnMkI3ZUhBR2JPaFJBTkNBQVFqK3k1ekMzNFRyM3k0ZVpEZmZ6ejFRTkRQM01iMwpVeGdGT0d5UWhqTlNvcHdMMy9NWU9ZZGdpWkNxOStSdkJUL1R4WVZRV1RGOFhScGxCQ3JqaG5yNAotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==';

/**
 * The certificate Secrets the Gateway API Gateways of `manifests` name and the set does not hold (a user's Secret,
 * which the cluster has): a self-signed one of the same name each (test only), so that istiod keeps the HTTPS
 * listener instead of dropping it for a missing Secret.
 */
export function certificateSecrets(manifests: any[]): any[] {
  const have = new Set(manifests.filter(m => m.kind === 'Secret').map(m => `${m.metadata.namespace ?? 'default'}/${m.metadata.name}`));
  const wanted = manifests.filter(m => m.apiVersion === `${GATEWAY_API}/v1` && m.kind === 'Gateway')
    .flatMap(g => (g.spec.listeners ?? []).flatMap((l: any) => (l.tls?.certificateRefs ?? [])
      .filter((r: any) => (r.kind ?? 'Secret') === 'Secret')
      .map((r: any) => `${r.namespace ?? g.metadata.namespace ?? 'default'}/${r.name}`)));
  return [...new Set(wanted)].filter(k => !have.has(k)).map(k => {
    const [namespace, name] = k.split('/');
    return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace }, data: { 'tls.crt': TLS_CERT, 'tls.key': TLS_KEY } };
  });
}

/** A parametersRef ConfigMap whose `service` patch keeps the client address at the node (externalTrafficPolicy: Local). */
function localServiceOptions(chart: Chart, name: string, servicePatch = 'spec:\n  externalTrafficPolicy: Local\n'): void {
  new ApiObject(chart, `${name}-options`, {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: INGRESS_NS }, data: { service: servicePatch },
  });
}

function gatewayApiGateway(chart: Chart, name: string, listeners: any[], infrastructure: any, annotations?: { [key: string]: string }): void {
  new ApiObject(chart, `${name}-gateway`, {
    apiVersion: `${GATEWAY_API}/v1`,
    kind: 'Gateway',
    metadata: { name, namespace: INGRESS_NS, annotations },
    spec: { gatewayClassName: 'istio', infrastructure, listeners },
  });
}

/** Routes in the ingress namespace may send to Services in apps. */
function referenceGrant(chart: Chart, kinds: string[]): void {
  new ApiObject(chart, 'apps-reference-grant', {
    apiVersion: `${GATEWAY_API}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: { name: 'from-ingress', namespace: 'apps' },
    spec: { from: kinds.map(kind => ({ group: GATEWAY_API, kind, namespace: INGRESS_NS })), to: [{ group: '', kind: 'Service' }] },
  });
}

function targetRefsPolicy(chart: Chart, name: string, gateway: string, action: string, source: { [field: string]: string[] }): void {
  new ApiObject(chart, `${name}-policy`, {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: INGRESS_NS },
    spec: { targetRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: gateway }], action, rules: [{ from: [{ source }] }] },
  });
}

const GATEWAY_API_SCENARIOS: { [name: string]: { build: (chart: Chart) => void; expected: ExpectedGatewayApiGateway[] } } = {
  'gateway-api-http-https-local-two-hops': {
    build: chart => {
      localServiceOptions(chart, 'web-options');
      new ApiObject(chart, 'web-cert', {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'web-cert', namespace: INGRESS_NS },
        data: { 'tls.crt': TLS_CERT, 'tls.key': TLS_KEY },
      });
      // spec.infrastructure.annotations replaces the Gateway's own annotations on the pod: the hop count goes there
      gatewayApiGateway(chart, 'web', [
        { name: 'http', port: 80, protocol: 'HTTP' },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'web.example.com', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'web-cert' }] } },
      ], {
        annotations: { 'proxy.istio.io/config': '{"gatewayTopology":{"numTrustedProxies":2}}' },
        parametersRef: { group: '', kind: 'ConfigMap', name: 'web-options' },
      });
      new ApiObject(chart, 'web-route', {
        apiVersion: `${GATEWAY_API}/v1`,
        kind: 'HTTPRoute',
        metadata: { name: 'web', namespace: INGRESS_NS },
        spec: { parentRefs: [{ name: 'web' }], hostnames: ['web.example.com'], rules: [{ backendRefs: [{ name: 'web', namespace: 'apps', port: 8080 }] }] },
      });
      referenceGrant(chart, ['HTTPRoute']);
      targetRefsPolicy(chart, 'web-allow-clients', 'web', 'ALLOW', { remoteIpBlocks: ['198.51.100.0/24', '2001:db8::/32'] });
      targetRefsPolicy(chart, 'web-deny-peers', 'web', 'DENY', { ipBlocks: ['192.0.2.0/24'] });
      userWorkload(chart, 'web', 'apps', [8080]);
    },
    expected: [{
      namespace: INGRESS_NS,
      gateway: 'web',
      serviceType: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      ipFamilyPolicy: 'PreferDualStack',
      trustedHops: 2,
      proxyProtocol: 'none',
      statusPortProxyProtocol: 'none',
      listenerPorts: [80, 443],
      rbac: ['ALLOW remote_ip 198.51.100.0/24', 'ALLOW remote_ip 2001:db8::/32', 'DENY direct_remote_ip 192.0.2.0/24'],
    }],
  },
  'gateway-api-tcp-proxy-protocol': {
    build: chart => {
      localServiceOptions(chart, 'tcp-options');
      // No spec.infrastructure.annotations: the Gateway's own annotations reach the pod
      gatewayApiGateway(chart, 'tcp', [{ name: 'tcp', port: 9000, protocol: 'TCP' }],
        { parametersRef: { group: '', kind: 'ConfigMap', name: 'tcp-options' } },
        { 'proxy.istio.io/config': '{"gatewayTopology":{"proxyProtocol":{}}}' });
      new ApiObject(chart, 'tcp-route', {
        apiVersion: `${GATEWAY_API}/v1alpha2`,
        kind: 'TCPRoute',
        metadata: { name: 'tcp', namespace: INGRESS_NS },
        spec: { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'tcp-echo', namespace: 'apps', port: 9000 }] }] },
      });
      referenceGrant(chart, ['TCPRoute']);
      // The gateway pod's annotations are not read for env: health checks through a PROXY load balancer need this
      new ApiObject(chart, 'tcp-proxy-config', {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'ProxyConfig',
        metadata: { name: 'tcp-status-port', namespace: INGRESS_NS },
        spec: { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'tcp' } }, environmentVariables: { ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL: 'true' } },
      });
      targetRefsPolicy(chart, 'tcp-deny-peers', 'tcp', 'DENY', { ipBlocks: ['203.0.113.0/24'] });
      userWorkload(chart, 'tcp-echo', 'apps', [9000], {}, 'tcp');
    },
    expected: [{
      namespace: INGRESS_NS,
      gateway: 'tcp',
      serviceType: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      ipFamilyPolicy: 'PreferDualStack',
      trustedHops: 0,
      proxyProtocol: 'strict',
      statusPortProxyProtocol: 'optional',
      listenerPorts: [9000],
      rbac: ['DENY direct_remote_ip 203.0.113.0/24'],
    }],
  },
};

/** Names of the Gateway API scenario sets. */
export const GATEWAY_API_SCENARIO_NAMES = Object.keys(GATEWAY_API_SCENARIOS);

/** Synthesises the Gateway API scenarios through the test harness, with what istiod must make of each gateway. */
export function gatewayApiSets(istioVersion?: IstioVersion): FixtureSet[] {
  return Object.entries(GATEWAY_API_SCENARIOS).map(([name, scenario]) => {
    const chart = setChart(istioVersion);
    scenario.build(chart);
    const manifests = synthAndValidate(chart, { istioVersion });
    return {
      name: `scenario-${name}`,
      manifests,
      declaredPolicies: [],
      declaredProxies: [],
      gatewayApi: scenario.expected,
      expectations: expectationsOf(chart.node.root, () => true, scenario.expected),
    };
  });
}

/** Names of the scenario sets (without the example app's charts). */
export const SCENARIO_NAMES = Object.keys(SCENARIOS);

/** Synthesises every scenario through the test harness (schemas, Envoy protos), one set per scenario. */
export function scenarioSets(istioVersion?: IstioVersion): FixtureSet[] {
  return Object.entries(SCENARIOS).map(([name, build]) => {
    const chart = setChart(istioVersion);
    build(chart);
    const manifests = synthAndValidate(chart, { istioVersion });
    return {
      name: `scenario-${name}`,
      manifests,
      declaredPolicies: declaredPolicies(chart),
      declaredProxies: declaredProxies(chart),
      expectations: expectationsOf(chart.node.root, () => true),
    };
  });
}

/** The chart of scenario `name` (without the `scenario-` prefix), built and synthesised as its set is. */
export function scenarioChart(name: string, istioVersion?: IstioVersion): Chart | undefined {
  const build = SCENARIOS[name] ?? GATEWAY_API_SCENARIOS[name]?.build;
  if (build === undefined) return undefined;
  const chart = setChart(istioVersion);
  build(chart);
  Testing.synth(chart);
  return chart;
}

/**
 * The example app's charts, one set each, and the whole app as one more (`wholeExampleSet`): the manifests are read
 * from `distDir` (what `npm run example` wrote), the declared policies and the expectations from the same app built in
 * memory.
 */
export function exampleSets(distDir: string, parse: (text: string, source: string) => any[]): FixtureSet[] {
  const app = buildApp(Testing.app());
  app.synth(); // models are read after synthesis, when every addX() has run
  const charts = new Map(app.charts.map(c => [c.node.id, c]));
  const sets: FixtureSet[] = fs.readdirSync(distDir).filter(f => f.endsWith('.k8s.yaml')).sort().map(file => {
    const id = file.replace(/\.k8s\.yaml$/, '');
    const chart = charts.get(id);
    if (chart === undefined) throw new Error(`${distDir}/${file} has no chart "${id}" in the example app: run npm run example again`);
    const chartYaml = fs.readFileSync(path.join(distDir, file), 'utf8');
    const secrets = certificateSecrets(parse(chartYaml, file));
    const yaml = secrets.length === 0 ? chartYaml : `${chartYaml}---\n${Yaml.stringify(...secrets)}`;
    // Only the policies: the example's constructs model the whole app as one cluster (a filter in one chart
    // selects a workload of another), while each chart is checked as a set of its own. Scenarios are one app each.
    return {
      name: `example-${id}`,
      manifests: parse(yaml, file),
      yaml,
      declaredPolicies: declaredPolicies(chart),
      declaredProxies: [],
      expectations: expectationsOf(app, inCharts([chart])),
    };
  });
  return [...sets, wholeExampleSet(sets, app)];
}

/**
 * The example app's charts, one set each, and the whole app as one more, synthesised in memory for `istioVersion`
 * (the context key on the app) and checked by the harness against that release's schemas: the sets of an older istiod pin.
 */
export function exampleSetsFor(istioVersion: IstioVersion): FixtureSet[] {
  const app = Testing.app();
  app.node.setContext(ISTIO_VERSION_CONTEXT_KEY, istioVersion.label);
  buildApp(app);
  const sets = app.charts.map(chart => {
    const synthesised = synthAndValidate(chart, { istioVersion });
    const manifests = [...synthesised, ...certificateSecrets(synthesised)];
    return {
      name: `example-${chart.node.id}`,
      manifests,
      declaredPolicies: declaredPolicies(chart),
      declaredProxies: [],
      expectations: expectationsOf(app, inCharts([chart])),
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
  return [...sets, wholeExampleSet(sets, app)];
}

/** True for the constructs under one of `charts`. */
export function inCharts(charts: Chart[]): (c: IConstruct) => boolean {
  return c => c.node.scopes.some(s => charts.includes(s as Chart));
}

/** The object set of the whole example app (`example-app`). */
export const WHOLE_EXAMPLE_SET = 'example-app';

/**
 * The whole example app as one set: every chart applied to one cluster, so that filters, policies and workloads of
 * different charts meet. The charts are alternatives that reuse names (each seed scenario has its `httpbin` and its
 * `ingressgateway`), and one object replaces the other when both are applied: a chart joins the set only when none
 * of its objects has the kind, namespace and name of an object of a chart already in it (charts in file order). The
 * expectations are the trace over the constructs of exactly those charts, taken as one cluster.
 */
export function wholeExampleSet(examples: FixtureSet[], app: { readonly charts: Chart[] }): FixtureSet {
  const taken = new Set<string>();
  const joined: FixtureSet[] = [];
  const charts: Chart[] = [];
  for (const set of examples) {
    const keys = set.manifests.map(m => `${m.apiVersion.split('/')[0]} ${m.kind} ${m.metadata?.namespace ?? 'default'}/${m.metadata?.name}`);
    if (keys.some(k => taken.has(k))) continue;
    keys.forEach(k => taken.add(k));
    joined.push(set);
    charts.push(app.charts.find(c => `example-${c.node.id}` === set.name)!);
  }
  return {
    name: WHOLE_EXAMPLE_SET,
    manifests: joined.flatMap(s => s.manifests),
    yaml: joined.map(s => s.yaml ?? Yaml.stringify(...s.manifests)).join('---\n'),
    declaredPolicies: joined.flatMap(s => s.declaredPolicies),
    declaredProxies: [],
    expectations: expectationsOf(charts[0].node.root, inCharts(charts)),
    charts: charts.map(c => c.node.id),
  };
}

function declaredPolicies(scope: IConstruct): DeclaredPolicy[] {
  return scope.node.findAll().filter((c): c is SourceIpPolicy => c instanceof SourceIpPolicy).map(p => ({
    name: p.name, namespace: p.namespace, action: p.action, field: p.field, negated: p.negated, cidrs: [...p.cidrs],
  }));
}

/**
 * Writes each set to `<dir>/<name>/objects.yaml` (and what its constructs declared to declared.json), with cdk8s's YAML writer,
 * which quotes strings such as "on" that YAML 1.1 readers (kubectl, Go) would read as booleans.
 */
export function writeSets(sets: FixtureSet[], dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const set of sets) {
    const setDir = path.join(dir, set.name);
    fs.mkdirSync(setDir, { recursive: true });
    fs.writeFileSync(path.join(setDir, 'objects.yaml'), set.yaml ?? Yaml.stringify(...set.manifests));
    const declared = {
      policies: set.declaredPolicies, proxies: set.declaredProxies, gatewayApi: set.gatewayApi ?? [], ...(set.charts ? { charts: set.charts } : {}),
    };
    fs.writeFileSync(path.join(setDir, 'declared.json'), JSON.stringify(declared, undefined, 2) + '\n');
    fs.writeFileSync(path.join(setDir, 'expectations.json'), JSON.stringify(set.expectations, undefined, 2) + '\n');
  }
}
