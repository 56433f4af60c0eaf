import { Chart, Testing } from 'cdk8s';
import { addClientAddressCharts } from '../../examples/seed-scenarios/client-address';
import {
  CdnOnlyPolicy, ClientAddressHeaderWriter, Explainer, ExternalTrafficPolicy, FindingSeverity, GatewayFlavour, InterceptionMode, MeshWorkload,
  PreservedIngressGateway, ProxyProtocolGateway, SourceIpWarnings, TproxyWorkload, TrustChain, TrustHop, WorkloadSource, XffSidecarFilter, XffTrust,
  CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY,
} from '../../src';
import { PathTrace } from '../../src/explain';
import { Topology } from '../../src/model/topology';
import { topologyTraces } from '../../src/trace/topology-trace';
import { docs, gatewayYaml, workloadYaml } from '../explain/fixtures';
import { findManifest, manifestsOfKind, synthAndValidate, validateEnvoyMessage } from '../harness';
import { assertRoundTrip } from '../property/round-trip';

const HOST = 'httpbin.example.com';
const CLIENT = '203.0.113.10';

function httpbin(chart: Chart, namespace = 'default'): TproxyWorkload {
  return new TproxyWorkload(chart, 'Httpbin', {
    source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', namespace, port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
  });
}

function routed(gateway: PreservedIngressGateway | ProxyProtocolGateway): void {
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
}

function northSouth(paths: PathTrace[]): PathTrace {
  return paths.find(p => p.direction === 'north-south' && p.protocol === 'HTTP')!;
}

/** The header values the hops after the first one receive, as `hop: value`. */
function headerTrail(path: PathTrace, header = 'x-real-ip'): string[] {
  return path.hops.filter(h => h.clientAddressHeaders?.[header] !== undefined).map(h => `${h.hop}: ${h.clientAddressHeaders![header]}`);
}

describe('clientAddressHeader on gateways', () => {
  test('GatewayFlavour.ISTIO: the VirtualService sets the header; explain shows it at the sidecar and the app; the round trip holds', () => {
    // GIVEN a gateway with externalTrafficPolicy Local in front of httpbin
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL });
    routed(gateway);
    httpbin(chart);
    // WHEN
    const header = gateway.clientAddressHeader({ name: 'x-real-ip' });
    // THEN the route sets it from the client the gateway resolved, and no EnvoyFilter is written
    const manifests = synthAndValidate(chart);
    expect(header.writer).toBe(ClientAddressHeaderWriter.VIRTUAL_SERVICE);
    expect(header.envoyFilter).toBeUndefined();
    expect(findManifest(manifests, 'VirtualService').spec.http[0].headers).toEqual({ request: { set: { 'x-real-ip': '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' } } });
    expect(manifestsOfKind(manifests, 'EnvoyFilter')).toEqual([]);
    const report = Explainer.fromManifests(manifests);
    expect(headerTrail(northSouth(report.paths))).toEqual([`sidecar TPROXY: ${CLIENT}`, `app: ${CLIENT}`]);
    expect(report.toTable()).toContain(`client-address headers received: sidecar TPROXY x-real-ip ${CLIENT}; app x-real-ip ${CLIENT}`);
    // An in-mesh caller that skips the gateway sends its own copy: a WARNING on the workload, on both sides
    const forgeable = report.allFindings().filter(f => /writes x-real-ip, but a pod that calls the workload directly/.test(f.message));
    expect(forgeable.map(f => [f.severity, f.where])).toEqual([[FindingSeverity.WARNING, 'workload default/httpbin']]);
    expect(SourceIpWarnings.of(chart).map(w => w.message)).toContainEqual(expect.stringContaining(forgeable[0].message));
    assertRoundTrip(chart, manifests);
  });

  test('GatewayFlavour.GATEWAY_API: an EnvoyFilter on the gateway pods overwrites the header, valid against the CRDs and Envoy protos', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    routed(gateway);
    httpbin(chart);
    // WHEN
    const header = gateway.clientAddressHeader();
    // THEN
    const manifests = synthAndValidate(chart);
    expect(header.headerName).toBe('x-real-ip');
    expect(header.writer).toBe(ClientAddressHeaderWriter.ENVOY_FILTER);
    const filter = findManifest(manifests, 'EnvoyFilter');
    expect(filter.spec).toEqual({
      workloadSelector: { labels: gateway.targetSelector },
      configPatches: [{
        applyTo: 'ROUTE_CONFIGURATION',
        match: { context: 'GATEWAY' },
        patch: {
          operation: 'MERGE',
          value: { request_headers_to_add: [{ header: { key: 'x-real-ip', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] },
        },
      }],
    });
    expect(header.envoyFilter!.metadata.namespace).toBe(gateway.targetNamespace);
    // The proto check is real: an append action Envoy does not know is refused
    const patch = filter.spec.configPatches[0].patch.value;
    expect(validateEnvoyMessage('envoy.config.route.v3.RouteConfiguration', patch)).toEqual([]);
    const bogus = { request_headers_to_add: [{ ...patch.request_headers_to_add[0], append_action: 'OVERWRITE' }] };
    expect(validateEnvoyMessage('envoy.config.route.v3.RouteConfiguration', bogus)).not.toEqual([]);
    // The HTTPRoute is left alone: Gateway API header values are literal by the spec
    expect(JSON.stringify(manifestsOfKind(manifests, 'HTTPRoute'))).not.toContain('%DOWNSTREAM');
    expect(headerTrail(northSouth(Explainer.fromManifests(manifests).paths))).toEqual([`sidecar TPROXY: ${CLIENT}`, `app: ${CLIENT}`]);
    assertRoundTrip(chart, manifests);
  });

  test('ProxyProtocolGateway behind a PROXY load balancer writes the client it reads from PROXY', () => {
    const chart = Testing.chart();
    const gateway = new ProxyProtocolGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
    routed(gateway);
    httpbin(chart);
    gateway.clientAddressHeader({ name: 'x-client-ip' });
    const manifests = synthAndValidate(chart);
    expect(headerTrail(northSouth(Explainer.fromManifests(manifests).paths), 'x-client-ip')).toEqual([`sidecar TPROXY: ${CLIENT}`, `app: ${CLIENT}`]);
    assertRoundTrip(chart, manifests);
  });

  test('attach mode: the VirtualService writes it on the installation\'s gateway; explain reads it back', () => {
    const chart = Testing.chart();
    const gateway = PreservedIngressGateway.attach(chart, 'Gateway');
    routed(gateway);
    httpbin(chart);
    gateway.clientAddressHeader();
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'VirtualService').spec.http[0].headers.request.set).toEqual({ 'x-real-ip': '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' });
    const report = Explainer.fromManifests(manifests);
    expect(headerTrail(northSouth(report.paths)).pop()).toBe(`app: ${CLIENT}`);
    expect(JSON.parse(report.toJson()).paths[0].hops.pop().clientAddressHeaders).toEqual({ 'x-real-ip': CLIENT });
    assertRoundTrip(chart, manifests);
  });

  test('a gateway that sees a node address writes it: a WARNING names what the header carries', () => {
    // GIVEN externalTrafficPolicy Cluster without PROXY (chosen: the lost client is a WARNING)
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
    routed(gateway);
    gateway.clientAddressHeader();
    // WHEN
    const findings = Explainer.fromManifests(synthAndValidate(chart)).allFindings();
    // THEN
    expect(findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.WARNING,
      where: `gateway ${gateway.targetNamespace}/ingressgateway`,
      message: 'x-real-ip carries 10.0.0.4 (node), not the client: the gateway writes the client it resolves, and it does not resolve the client',
    }));
  });

  test('a second call with the same name returns the same header; the construct id does not depend on the call order', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    const first = gateway.clientAddressHeader({ name: 'x-real-ip' });
    expect(gateway.clientAddressHeader({ name: 'x-real-ip' })).toBe(first);
    expect(first.node.path).toBe(`${gateway.node.path}/ClientAddressHeader`);
  });

  test.each([
    ['X-Real-IP', /write header names in lower case \("x-real-ip"\)/],
    [':authority', /pseudo-headers/],
    ['x-forwarded-for', /hop-by-hop, routing or client-address header/],
    ['host', /hop-by-hop, routing or client-address header/],
    ['connection', /hop-by-hop, routing or client-address header/],
    ['x-envoy-external-address', /x-envoy-\* headers are set and trusted by Envoy itself/],
    ['bad header', /is not a valid header name: use an RFC 7230 token/],
    ['', /is not allowed: give a header name such as "x-real-ip"/],
  ])('fails on header name %j', (name, message) => {
    const gateway = new PreservedIngressGateway(Testing.chart(), 'Gateway');
    expect(() => gateway.clientAddressHeader({ name })).toThrow(message);
  });

  test('fails on a second header name for the same gateway', () => {
    const gateway = new PreservedIngressGateway(Testing.chart(), 'Gateway');
    gateway.clientAddressHeader({ name: 'x-real-ip' });
    expect(() => gateway.clientAddressHeader({ name: 'x-client-ip' }))
      .toThrow('clientAddressHeader name "x-client-ip" is not allowed: gateway "ingressgateway" already writes the client into "x-real-ip"; a hop writes one client-address header, so use that name');
  });

  test('a second call with the same name returns the same header; fails on a second name for the same workload', () => {
    // GIVEN a workload that writes x-real-ip
    const workload = httpbin(Testing.chart());
    const header = workload.clientAddressHeader();
    // WHEN it is asked again: THEN the same header, and another name is refused
    expect(workload.clientAddressHeader({ name: 'x-real-ip' })).toBe(header);
    expect(() => workload.clientAddressHeader({ name: 'x-client-ip' }))
      .toThrow('clientAddressHeader name "x-client-ip" is not allowed: workload "httpbin" already writes the client into "x-real-ip"; a hop writes one client-address header, so use that name');
  });

  test('fails at synthesis when a GatewayFlavour.ISTIO gateway has no HTTP route to write it on', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    gateway.addHttpServer();
    gateway.clientAddressHeader();
    expect(() => Testing.synth(chart)).toThrow(/clientAddressHeader "x-real-ip" is written by the VirtualServices of gateway "ingressgateway"'s HTTP routes, but it has none: call addRoute\(\)/);
  });
});

describe('clientAddressHeader on sidecar workloads', () => {
  function cdnApp(): { chart: Chart; gateway: PreservedIngressGateway; workload: TproxyWorkload } {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/24'], clientHeader: 'CF-Connecting-IP' }), TrustHop.l4PassThrough()),
    });
    routed(gateway);
    const cdnOnly = new CdnOnlyPolicy(chart, 'CdnOnly', { gateway });
    const workload = httpbin(chart);
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', enforcedBy: cdnOnly }) });
    return { chart, gateway, workload };
  }

  test('behind a CDN the sidecar resolves the client from its header and writes it: an EnvoyFilter on the inbound route configuration', () => {
    // GIVEN the gateway resolves the CDN by design, the sidecar the client
    const { chart, workload } = cdnApp();
    // WHEN
    const header = workload.clientAddressHeader();
    // THEN
    const manifests = synthAndValidate(chart);
    expect(header.writer).toBe(ClientAddressHeaderWriter.ENVOY_FILTER);
    const filter = manifestsOfKind(manifests, 'EnvoyFilter').find(f => f.spec.configPatches[0].applyTo === 'ROUTE_CONFIGURATION')!;
    expect(filter.spec.workloadSelector).toEqual({ labels: { app: 'httpbin' } });
    expect(filter.spec.configPatches[0].match).toEqual({ context: 'SIDECAR_INBOUND' });
    const models = topologyTraces(Topology.of(chart)).map(t => t.model.workloads.find(w => w.name === 'httpbin')!.clientAddressHeader);
    expect(models).toEqual(['x-real-ip']);
    const report = Explainer.fromManifests(manifests);
    // The app receives the client the sidecar resolved; nothing before the sidecar carries the header
    expect(headerTrail(northSouth(report.paths))).toEqual([`app: ${CLIENT}`]);
    expect(report.allFindings().filter(f => /x-real-ip/.test(f.message) && f.severity === FindingSeverity.ERROR)).toEqual([]);
  });

  test('the same header on the gateway behind the CDN would carry the CDN\'s address: a WARNING that says so', () => {
    const { chart, gateway } = cdnApp();
    gateway.clientAddressHeader();
    const findings = Explainer.fromManifests(synthAndValidate(chart)).allFindings();
    expect(findings.filter(f => /^x-real-ip carries/.test(f.message)).map(f => f.severity)).toEqual([FindingSeverity.WARNING]);
  });

  test('a sidecar with a trusted-hops filter writes what a direct in-mesh caller forges: the remoteIpBlocks rule, as a WARNING', () => {
    // GIVEN a sidecar that trusts the gateway's one hop and writes the header
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { trustChain: TrustChain.of(TrustHop.l7LoadBalancer({ name: 'alb' })) });
    routed(gateway);
    const workload = httpbin(chart);
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gateway), portNumber: 8000 });
    workload.clientAddressHeader();
    // WHEN
    const manifests = synthAndValidate(chart);
    const report = Explainer.fromManifests(manifests);
    // THEN through the gateway the app gets the client; directly, a pod chooses the value
    expect(headerTrail(northSouth(report.paths))).toEqual([`app: ${CLIENT}`]);
    const east = report.paths.find(p => p.direction === 'east-west')!;
    expect(headerTrail(east)).toEqual(['app: 10.244.2.9']);
    expect(report.allFindings().filter(f => /the sidecar writes x-real-ip from the client it resolves/.test(f.message)).map(f => f.severity))
      .toEqual([FindingSeverity.WARNING]);
    assertRoundTrip(chart, manifests);
  });

  test('fails with interceptionMode NONE', () => {
    const chart = Testing.chart();
    const workload = MeshWorkload.fromLabels(chart, 'App', { labels: { app: 'web' }, interceptionMode: InterceptionMode.NONE });
    expect(() => workload.clientAddressHeader()).toThrow(/with interceptionMode NONE inbound traffic bypasses the sidecar/);
  });
});

describe('explain reads hand-written writers', () => {
  const service = `
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: web }
spec:
  selector: { app: httpbin }
  ports: [{ port: 8000 }]
`;
  test('a destination-level VirtualService set and a sidecar EnvoyFilter with append: false; an appending one is not a writer', () => {
    // GIVEN a VirtualService that sets X-Client-IP on the destination, and a sidecar patch in the older spelling
    const vs = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin, namespace: istio-ingress }
spec:
  hosts: ["*"]
  gateways: [web]
  http:
  - route:
    - destination: { host: httpbin.web.svc.cluster.local }
      headers: { request: { set: { X-Client-IP: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } } }
`;
    const filter = (name: string, header: string, append: string) => `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: ${name}, namespace: web }
spec:
  workloadSelector: { labels: { app: httpbin } }
  configPatches:
  - applyTo: ROUTE_CONFIGURATION
    match: { context: SIDECAR_INBOUND }
    patch:
      operation: MERGE
      value:
        request_headers_to_add:
        - { header: { key: ${header}, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }, ${append} }
`;
    const yaml = docs(gatewayYaml({ etp: 'Local' }), workloadYaml('TPROXY'), service, vs, filter('appends', 'x-appended', 'append_action: APPEND_IF_EXISTS_OR_ADD'),
      filter('writes', 'x-real-ip', 'append: false'));
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN the gateway writes x-client-ip (lower-cased), the sidecar x-real-ip; the appending patch writes nothing
    const path = northSouth(report.paths);
    expect(path.hops.slice(-2).map(h => h.clientAddressHeaders)).toEqual([
      { 'x-client-ip': CLIENT },
      { 'x-client-ip': CLIENT, 'x-real-ip': CLIENT },
    ]);
    // The default sidecar takes the rightmost X-Forwarded-For entry: the client the gateway appended, but a pod that
    // calls it directly writes that entry itself
    expect(report.allFindings().filter(f => /the sidecar writes x-real-ip from the client it resolves/.test(f.message)).map(f => f.where))
      .toEqual(['workload web/httpbin']);
  });
});

describe('explain reads an HTTPRoute RequestHeaderModifier that sets the command operator', () => {
  test('Istio expands it, so the Gateway API gateway writes the header as with the library\'s EnvoyFilter', () => {
    // GIVEN a Gateway API gateway's output without the library's header, and its HTTPRoute edited to set x-real-ip
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    routed(gateway);
    httpbin(chart);
    const manifests = synthAndValidate(chart);
    expect(headerTrail(northSouth(Explainer.fromManifests(manifests).paths))).toEqual([]);
    const route = findManifest(manifests, 'HTTPRoute');
    route.spec.rules[0].filters = [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Real-IP', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' }] } }];
    // WHEN
    const report = Explainer.fromManifests(manifests);
    // THEN
    expect(headerTrail(northSouth(report.paths))).toEqual([`sidecar TPROXY: ${CLIENT}`, `app: ${CLIENT}`]);
  });
});

describe('the example app\'s client-address charts', () => {
  test('the app reads the client in x-real-ip, written by the gateway in one chart and by the sidecar behind the CDN in the other', () => {
    // GIVEN the example charts
    const app = Testing.app();
    app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
    addClientAddressCharts(app);
    // WHEN explain reads each chart's output
    const trails = app.charts.map(c => [c.node.id, headerTrail(northSouth(Explainer.fromManifests(synthAndValidate(c)).paths))]);
    // THEN
    expect(trails).toEqual([
      ['ns-client-header-gateway', [`sidecar TPROXY: ${CLIENT}`, `app: ${CLIENT}`]],
      ['ns-client-header-sidecar', [`app: ${CLIENT}`]],
    ]);
  });
});

describe('spoofing: a client that forges X-Forwarded-For or the header cannot set another client\'s address in it', () => {
  type Build = (chart: Chart) => void;
  const topologies: Array<[string, Build]> = [
    ['Local, no hop in front', c => { const g = new PreservedIngressGateway(c, 'G', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL }); routed(g); g.clientAddressHeader(); }],
    ['one L7 hop counted', c => { const g = new PreservedIngressGateway(c, 'G', { trustChain: TrustChain.of(TrustHop.l7LoadBalancer()) }); routed(g); g.clientAddressHeader(); }],
    ['CDN and L7 hop counted', c => { const g = new PreservedIngressGateway(c, 'G', { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer()) }); routed(g); g.clientAddressHeader(); }],
    ['PROXY protocol', c => { const g = new ProxyProtocolGateway(c, 'G', {}); routed(g); g.clientAddressHeader(); }],
    ['Gateway API', c => { const g = new PreservedIngressGateway(c, 'G', { flavour: GatewayFlavour.GATEWAY_API }); routed(g); g.clientAddressHeader(); }],
    ['sidecar writer behind the gateway', c => {
      const g = new PreservedIngressGateway(c, 'G', { trustChain: TrustChain.of(TrustHop.l7LoadBalancer()) });
      routed(g);
      const w = httpbin(c);
      new XffSidecarFilter(c, 'Xff', { workload: w, trust: XffTrust.trustHopsOf(g) });
      w.clientAddressHeader();
    }],
  ];

  test.each(topologies)('%s: the forged path never puts a forged address into the header, and no ERROR is raised', (_name, build) => {
    // GIVEN an accepted topology with a header writer and httpbin behind it
    const chart = Testing.chart();
    build(chart);
    httpbinIfMissing(chart);
    const manifests = synthAndValidate(chart);
    // WHEN both sides trace it (honestly and with a forged X-Forwarded-For and header)
    const report = Explainer.fromManifests(manifests);
    // THEN the app's header is the client, and nothing says it is spoofable
    expect(headerTrail(northSouth(report.paths)).pop()).toBe(`app: ${CLIENT}`);
    expect(report.allFindings().filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
    assertRoundTrip(chart, manifests);
  });

  test('a gateway that trusts one hop more than append (hand-edited manifests): the header is spoofable, an ERROR', () => {
    // GIVEN the output of a gateway behind one L4 hop, edited to trust one X-Forwarded-For hop (the constructs refuse it)
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { trustChain: TrustChain.of(TrustHop.l4PassThrough()) });
    routed(gateway);
    gateway.clientAddressHeader();
    const manifests = synthAndValidate(chart);
    const deployment = findManifest(manifests, 'Deployment');
    deployment.spec.template.metadata.annotations['proxy.istio.io/config'] = JSON.stringify({ gatewayTopology: { numTrustedProxies: 1 } });
    // WHEN
    const findings = Explainer.fromManifests(manifests).allFindings();
    // THEN the forged X-Forwarded-For entry reaches the header the app reads
    expect(findings.filter(f => f.message.startsWith('spoofable: a client that sends X-Forwarded-For and x-real-ip gets 192.0.2.69 into x-real-ip')).map(f => [f.severity, f.where]))
      .toEqual([[FindingSeverity.ERROR, `gateway ${gateway.targetNamespace}/ingressgateway`]]);
  });
});

function httpbinIfMissing(chart: Chart): void {
  if (!Topology.of(chart).workloads.some(w => w._workloadModel()?.name === 'httpbin')) httpbin(chart);
}
