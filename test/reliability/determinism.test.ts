import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as YAML from 'yaml';
import {
  ExternalTrafficPolicy, InterceptionMode, LoadBalancerProfile, MeshWorkload, PolicyAction, PreservedIngressGateway, ProxyProtocolFilterContext,
  ProxyProtocolGateway, ProxyProtocolListenerFilter, ProxyProtocolMode, SourceIpPolicy, TproxyWorkload, TrustChain, TrustHop, WorkloadSource,
  XffSidecarFilter, XffTrust,
} from '../../src';
import { validateManifest } from '../harness';

/*
 * Determinism: the same app gives byte-identical YAML every time, whatever order independent constructs and
 * charts were added in, and generated names are stable (the concrete names are asserted).
 */

const OUTDIR = path.join(os.tmpdir(), 'cdk8s-istio-source-ip-determinism');

/** Each builder adds one independent part of an app to a chart. */
type Part = (chart: Chart) => void;

/** North-south HTTP behind a CDN, with a policy. */
const edge: Part = chart => {
  const gw = new PreservedIngressGateway(chart, 'Gateway', {
    name: 'edge', trustChain: TrustChain.of(TrustHop.cdn({ name: 'cloudfront' }), TrustHop.l4PassThrough()), loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
  });
  gw.addHttpsServer({ hosts: ['app.example.com'], credentialName: 'app-cert' });
  gw.addHttpsRedirect({ hosts: ['app.example.com'] });
  gw.addRoute({ host: 'app.example.com', pathPrefix: '/', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
  gw.addRoute({ host: 'app.example.com', pathPrefix: '/api', backendHost: 'api.apps.svc.cluster.local', backendPort: 8080 });
  gw.allowFrom(['203.0.113.0/24', '2001:db8::/32']);
};

/** TCP behind an NLB with optional PROXY (an EnvoyFilter) and a PROXY backend. */
const tcp: Part = chart => {
  const gw = new ProxyProtocolGateway(chart, 'Gateway', {
    name: 'tcp', loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolMode: ProxyProtocolMode.OPTIONAL,
  });
  gw.addTcpServer({ port: 9000 });
  gw.addTcpServer({ port: 9001 });
  const backend = gw.addProxyProtocolBackend('Echo', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000 });
  gw.addTcpRoute({ port: 9000, backendHost: backend.host, backendPort: 9000 });
};

/** East-west: a TPROXY Deployment, an existing workload with an XFF filter, and policies with generated names. */
const mesh: Part = chart => {
  const tproxy = new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.4', port: 8080, servicePort: 80 }) });
  tproxy.allowFrom(['10.0.0.0/8']);
  const httpbin = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps', interceptionMode: InterceptionMode.REDIRECT });
  new XffSidecarFilter(chart, 'HttpbinXff', { trust: XffTrust.trustedHops(1), workload: httpbin, portNumber: 8000 });
  new SourceIpPolicy(chart, 'DenyBots', { target: httpbin, cidrs: ['198.51.100.0/24'], action: PolicyAction.DENY, ports: [8000] });
  new ProxyProtocolListenerFilter(chart, 'InboundProxy', { namespace: 'apps', selector: { app: 'legacy' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND });
};

/** The mesh part with its independent constructs added in the opposite order. */
const meshReversed: Part = chart => {
  new ProxyProtocolListenerFilter(chart, 'InboundProxy', { namespace: 'apps', selector: { app: 'legacy' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND });
  const httpbin = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps', interceptionMode: InterceptionMode.REDIRECT });
  new SourceIpPolicy(chart, 'DenyBots', { target: httpbin, cidrs: ['198.51.100.0/24'], action: PolicyAction.DENY, ports: [8000] });
  new XffSidecarFilter(chart, 'HttpbinXff', { trust: XffTrust.trustedHops(1), workload: httpbin, portNumber: 8000 });
  const tproxy = new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.4', port: 8080, servicePort: 80 }) });
  tproxy.allowFrom(['10.0.0.0/8']);
};

/** An HTTP gateway with Cluster policy, for a second chart of the same kind. */
const internal: Part = chart => {
  const gw = new PreservedIngressGateway(chart, 'Gateway', { name: 'internal', namespace: 'internal', externalTrafficPolicy: ExternalTrafficPolicy.LOCAL, replicas: 3 });
  gw.addHttpServer({ port: 8080, hosts: ['*.internal.example.com'] });
  gw.addRoute({ host: '*.internal.example.com', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
  gw.denyFrom(['192.0.2.0/24']);
};

function appOf(charts: Array<[string, Part]>): App {
  const app = new App({ outdir: OUTDIR });
  for (const [id, part] of charts) part(new Chart(app, id));
  return app;
}

/** Each chart's YAML, keyed by chart id. */
function yamlByChart(app: App): { [id: string]: string } {
  return Object.fromEntries(app.charts.map(c => [c.node.id, YAML.stringify(c.toJson())]));
}

/** A chart's manifests as a sorted list of canonical JSON strings (order-insensitive comparison). */
function manifestSet(chart: Chart): string[] {
  return chart.toJson().map(m => JSON.stringify(m)).sort();
}

const PARTS: Array<[string, Part]> = [['edge', edge], ['tcp', tcp], ['mesh', mesh], ['internal', internal]];

describe('determinism', () => {
  test('the same app synthesises byte-identical YAML twice, and from a second identical app', () => {
    // GIVEN
    const app = appOf(PARTS);
    // WHEN
    const first = app.synthYaml();
    const second = app.synthYaml();
    const again = appOf(PARTS).synthYaml();
    // THEN
    expect(first.length).toBeGreaterThan(1000);
    expect(second).toBe(first);
    expect(again).toBe(first);
  });

  test('every object of the app passes the validation harness (the determinism fixture is itself valid)', () => {
    const app = appOf(PARTS);
    const errors = app.charts.flatMap(c => c.toJson()).flatMap(m => validateManifest(m));
    expect(errors).toEqual([]);
  });

  test('independent charts added in any order give the same per-chart YAML', () => {
    // GIVEN the same charts in forward and reverse order, and rotated
    const forward = yamlByChart(appOf(PARTS));
    const reversed = yamlByChart(appOf([...PARTS].reverse()));
    const rotated = yamlByChart(appOf([...PARTS.slice(2), ...PARTS.slice(0, 2)]));
    // THEN
    expect(Object.keys(forward).sort()).toEqual(['edge', 'internal', 'mesh', 'tcp']);
    expect(reversed).toEqual(forward);
    expect(rotated).toEqual(forward);
  });

  test('independent constructs added in the opposite order give the same set of manifests', () => {
    // GIVEN
    const a = new Chart(new App({ outdir: OUTDIR }), 'mesh');
    mesh(a);
    const b = new Chart(new App({ outdir: OUTDIR }), 'mesh');
    meshReversed(b);
    // THEN the same objects (names, fields, the policy field decided at synth time), whatever the order
    expect(manifestSet(b)).toEqual(manifestSet(a));
  });

  test('a policy added before the filter that changes its field gets the same manifest as one added after', () => {
    // GIVEN: the XFF filter makes remoteIpBlocks meaningful on the sidecar; the field is decided when synthesising
    const before = new Chart(new App({ outdir: OUTDIR }), 'c');
    const w1 = MeshWorkload.fromLabels(before, 'W', { labels: { app: 'httpbin' }, namespace: 'apps' });
    w1.allowFrom(['203.0.113.0/24']);
    new XffSidecarFilter(before, 'F', { trust: XffTrust.trustedHops(1), workload: w1 });
    const after = new Chart(new App({ outdir: OUTDIR }), 'c');
    const w2 = MeshWorkload.fromLabels(after, 'W', { labels: { app: 'httpbin' }, namespace: 'apps' });
    new XffSidecarFilter(after, 'F', { trust: XffTrust.trustedHops(1), workload: w2 });
    w2.allowFrom(['203.0.113.0/24']);
    // THEN
    expect(manifestSet(before)).toEqual(manifestSet(after));
    const policy = before.toJson().find(m => m.kind === 'AuthorizationPolicy');
    expect(Object.keys(policy.spec.rules[0].from[0].source)).toEqual(['remoteIpBlocks']);
  });

  test('generated names are stable', () => {
    // GIVEN
    const app = appOf(PARTS);
    const names = (id: string) => app.charts.find(c => c.node.id === id)!.toJson().map(m => `${m.kind}/${m.metadata.namespace ?? '-'}/${m.metadata.name}`).sort();
    // THEN the names given by the constructs and the ones generated from construct paths
    expect(names('edge')).toEqual(GOLDEN_NAMES.edge);
    expect(names('tcp')).toEqual(GOLDEN_NAMES.tcp);
    expect(names('mesh')).toEqual(GOLDEN_NAMES.mesh);
    expect(names('internal')).toEqual(GOLDEN_NAMES.internal);
  });
});

const GOLDEN_NAMES: { [chart: string]: string[] } = {
  edge: [
    'AuthorizationPolicy/istio-ingress/edge-gateway-allowfrom83caa09f-c8328eee',
    'Deployment/istio-ingress/edge',
    'Gateway/istio-ingress/edge',
    'PodDisruptionBudget/istio-ingress/edge',
    'Role/istio-ingress/edge-sds',
    'RoleBinding/istio-ingress/edge-sds',
    'Service/istio-ingress/edge',
    'ServiceAccount/istio-ingress/edge',
    'VirtualService/istio-ingress/edge-route-0',
  ],
  tcp: [
    'Deployment/istio-ingress/tcp',
    'DestinationRule/apps/tcp-echo-proxy-protocol',
    'EnvoyFilter/apps/tcp-echo-proxy-protocol-inbound',
    'EnvoyFilter/istio-ingress/tcp-proxy-protocol',
    'Gateway/istio-ingress/tcp',
    'PodDisruptionBudget/istio-ingress/tcp',
    'Role/istio-ingress/tcp-sds',
    'RoleBinding/istio-ingress/tcp-sds',
    'Service/istio-ingress/tcp',
    'ServiceAccount/istio-ingress/tcp',
    'VirtualService/istio-ingress/tcp-route-0',
  ],
  mesh: [
    'AuthorizationPolicy/apps/mesh-denybots-c84b6d92',
    'AuthorizationPolicy/default/mesh-echo-allowfrombd8a8028-c83909b6',
    'Deployment/default/mesh-echo-c8fc674b',
    'EnvoyFilter/apps/mesh-httpbinxff-c80076c5',
    'EnvoyFilter/apps/mesh-inboundproxy-c893577d',
    'Service/default/mesh-echo-service-c8125a60',
  ],
  internal: [
    'AuthorizationPolicy/internal/internal-gateway-denyfromf16ea358-c80ce4e3',
    'Deployment/internal/internal',
    'Gateway/internal/internal',
    'PodDisruptionBudget/internal/internal',
    'Role/internal/internal-sds',
    'RoleBinding/internal/internal-sds',
    'Service/internal/internal',
    'ServiceAccount/internal/internal',
    'VirtualService/internal/internal-route-0',
  ],
};
