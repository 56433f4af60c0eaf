import { Chart, Testing } from 'cdk8s';
import {
  AmbientNamespace, ClientIpField, ExternalTrafficPolicy, Waypoint,
  Explainer, Finding, FindingSeverity, GatewayFlavour, LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolFilterContext,
  ProxyProtocolListenerFilter, SourceIpWarnings, TproxyWorkload, TrustChain, TrustHop, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { findingText } from '../../src/model/finding-text';
import { Topology } from '../../src/model/topology';
import { constructFindings, topologyTraces } from '../../src/trace/topology-trace';
import { synthAndValidate } from '../harness';
import { unvalidatedManifests, validationErrors } from '../harness/unvalidated';

/*
 * One trace decides: the constructs report the trace's findings about their own objects (an ERROR as the
 * validation error, a WARNING as a SourceIpWarnings entry) and `explain` over their output prints the same findings,
 * with the same severity and text. Each case below disagreed before the constructs and explain shared the trace.
 */

function explained(manifests: any[], severity: FindingSeverity, where: string): Finding[] {
  return Explainer.fromManifests(manifests).allFindings().filter(f => f.severity === severity && f.where === where);
}

describe('one trace: the constructs and explain give the same findings', () => {
  test('fails a PreservedIngressGateway whose serviceAnnotations turn PROXY on that the gateway does not accept, as explain does', () => {
    // GIVEN an AWS NLB with ip targets, PROXY turned on through serviceAnnotations
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' },
    });
    gateway.addHttpServer();
    // WHEN the constructs validate and explain reads the same objects
    const errors = validationErrors(chart);
    const fromExplain = explained(unvalidatedManifests(chart), FindingSeverity.ERROR, `gateway ${gateway.targetNamespace}/ingressgateway`);
    // THEN both say it, with one text
    expect(fromExplain.map(f => f.message)).toContainEqual(expect.stringMatching(/^the load balancer sends PROXY protocol but the gateway does not accept it/));
    expect(errors).toEqual(fromExplain.map(f => `[test/Gateway] ${findingText(f)}`));
  });

  test('a mandatory PROXY listener filter with nothing in front declared to send PROXY: a WARNING (issue 25)', () => {
    // GIVEN hand-written gateway objects with a per-port PROXY listener filter and a Service without PROXY annotations
    const manifests = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gw', namespace: 'edge' }, spec: { selector: { matchLabels: { istio: 'gw' } }, template: { metadata: { labels: { istio: 'gw' }, annotations: { 'inject.istio.io/templates': 'gateway' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gw', namespace: 'edge' }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { istio: 'gw' }, ports: [{ name: 'tcp', port: 9000 }] } },
      { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'edge' }, spec: { selector: { istio: 'gw' }, servers: [{ port: { number: 9000, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] }] } },
      { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'pp', namespace: 'edge' }, spec: { workloadSelector: { labels: { istio: 'gw' } }, configPatches: [{ applyTo: 'LISTENER_FILTER', match: { context: 'GATEWAY', listener: { portNumber: 9000 } }, patch: { operation: 'INSERT_FIRST', value: { name: 'envoy.filters.listener.proxy_protocol', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol' } } } }] } },
    ];
    // WHEN
    const found = Explainer.fromManifests(manifests).allFindings().filter(f => /requires PROXY protocol on ports 9000/.test(f.message));
    // THEN
    expect(found.map(f => `${f.severity} ${f.where}`)).toEqual(['warning gateway edge/gw']);
  });

  test.each([
    ['externalTrafficPolicy CLUSTER without PROXY', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER }, 'true'],
    ['externalTrafficPolicy LOCAL (the default)', {}, undefined],
    ['CLUSTER behind a load balancer that keeps the source', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP }, undefined],
  ])('node-address-accepted on the gateway Service: %s', (_name, props, expected) => {
    // GIVEN
    const chart = Testing.chart();
    new PreservedIngressGateway(chart, 'Gateway', props).addHttpServer();
    // WHEN
    const manifests = synthAndValidate(chart);
    const service = manifests.find(m => m.kind === 'Service');
    // THEN only a chosen node address is written, and explain then reports the lost client as a WARNING, not an ERROR
    expect(service.metadata.annotations?.['source-ip.cdk8s.io/node-address-accepted']).toBe(expected);
    const lost = Explainer.fromManifests(manifests).allFindings().filter(f => /^client IP lost: externalTrafficPolicy Cluster/.test(f.message));
    expect(lost.map(f => f.severity)).toEqual(expected ? [FindingSeverity.WARNING] : []);
    // and without the annotation (hand-written YAML), the same Service is an ERROR
    if (expected) {
      const bare = manifests.map(m => m.kind === 'Service' ? { ...m, metadata: { ...m.metadata, annotations: {} } } : m);
      const errors = Explainer.fromManifests(bare).allFindings().filter(f => /^client IP lost: externalTrafficPolicy Cluster/.test(f.message));
      expect(errors.map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
    }
  });

  test('a standalone SIDECAR_INBOUND ProxyProtocolListenerFilter joins the model: the workload strips PROXY on every port', () => {
    // GIVEN a TproxyWorkload and a PROXY listener filter on its sidecars
    const chart = Testing.chart();
    const workload = new TproxyWorkload(chart, 'Httpbin', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', namespace: 'web', port: 8000, labels: { app: 'httpbin' } }),
    });
    new ProxyProtocolListenerFilter(chart, 'Pp', { namespace: 'web', selector: { app: 'httpbin' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND });
    // WHEN
    const manifests = synthAndValidate(chart);
    // THEN the constructs' model and explain's agree
    expect(workload._workloadModel()!.proxyProtocolOnEveryPort).toBe(true);
    const parsedHop = Explainer.fromManifests(manifests).paths.find(p => p.direction === 'east-west')!;
    expect(parsedHop.title).toMatch(/web\/httpbin/);
    const model = topologyTraces(Topology.of(chart))[0].model;
    expect(model.workloads.find(w => w.name === 'httpbin')!.proxyProtocolOnEveryPort).toBe(true);
  });

  test('a gateway with HTTPS, TLS passthrough and TCP listeners traces each backend with the protocol of its route', () => {
    // GIVEN a Gateway API gateway with an HTTPS route to web and TLS and TCP routes to db
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    gateway.addHttpsServer({ hosts: ['web.example.com'], credentialName: 'web-cert' });
    gateway.addTlsPassthroughServer({ hosts: ['db.example.com'], port: 8443 });
    gateway.addTcpServer({ port: 5432 });
    gateway.addRoute({ host: 'web.example.com', backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
    gateway.addTlsRoute({ sniHosts: ['db.example.com'], port: 8443, backendHost: 'db.apps.svc.cluster.local', backendPort: 5433 });
    gateway.addTcpRoute({ port: 5432, backendHost: 'db.apps.svc.cluster.local', backendPort: 5432 });
    for (const app of ['web', 'db']) {
      new TproxyWorkload(chart, app, { source: WorkloadSource.newDeployment({ image: 'example/app', name: app, namespace: 'apps', port: 8080, labels: { app } }) });
    }
    // WHEN explain reads the output and the constructs trace their model
    const manifests = synthAndValidate(chart);
    const fromExplain = Explainer.fromManifests(manifests).paths.filter(p => p.direction === 'north-south').map(p => `${p.protocol} ${p.title}`);
    const fromConstructs = topologyTraces(Topology.of(chart))[0].result.paths.filter(p => p.direction === 'north-south').map(p => `${p.protocol} ${p.title}`);
    // THEN web is traced as HTTP only and db as TCP only, on both sides
    expect(fromExplain).toEqual([
      'HTTP north-south: gateway istio-ingress/ingressgateway -> workload apps/web',
      'TCP north-south: gateway istio-ingress/ingressgateway -> workload apps/db',
    ]);
    expect(fromConstructs).toEqual(fromExplain);
  });

  test('remoteIpBlocks on a sidecar behind trustHopsOf(gateway): forgeable from inside the mesh is one WARNING on both sides', () => {
    // GIVEN a gateway behind a CDN and an L7 load balancer, and a TPROXY workload whose sidecar trusts the same hops
    const chart = new Chart(Testing.app(), 'test');
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn' }), TrustHop.l7LoadBalancer({ name: 'alb' })),
    });
    gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
    gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
    const workload = new TproxyWorkload(chart, 'Httpbin', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
    });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gateway), portNumber: 8000 });
    workload.denyFrom(['198.51.100.0/24'], { ports: [8000] });
    // WHEN
    const manifests = synthAndValidate(chart);
    // THEN explain's finding is a WARNING, and the construct raised the same text
    const forgeable = Explainer.fromManifests(manifests).allFindings().filter(f => /^forgeable from inside the mesh/.test(f.message));
    expect(forgeable.map(f => f.severity)).toEqual([FindingSeverity.WARNING]);
    expect(SourceIpWarnings.messages(workload)).toContain(findingText(forgeable[0]));
    expect(Explainer.fromManifests(manifests).allFindings().filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
  });

  describe('a waypoint behind an ingress gateway with a CDN and an L7 load balancer in front', () => {
    function waypointApp(field: ClientIpField): { chart: Chart; waypoint: Waypoint } {
      const chart = new Chart(Testing.app(), 'ambient');
      const gateway = new PreservedIngressGateway(chart, 'Gateway', {
        trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn' }), TrustHop.l7LoadBalancer({ name: 'alb' })),
      });
      gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
      gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
      const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
      new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
      waypoint.allowFrom(['198.51.100.0/24'], { field });
      return { chart, waypoint };
    }

    test.each([
      [ClientIpField.REMOTE_IP_BLOCKS, /^for ingress traffic from gateway istio-ingress\/ingressgateway, remoteIpBlocks in .* match [0-9.]+ \((alb|node)\), the rightmost X-Forwarded-For entry/],
      [ClientIpField.IP_BLOCKS, /^ipBlocks in .* list only external ranges, but on the waypoint ipBlocks match the caller ztunnel restores: for ingress traffic that is the gateway pod/],
    ])('an ALLOW on %s: the waypoint never sees the client, one WARNING on both sides', (field, message) => {
      // GIVEN
      const { chart, waypoint } = waypointApp(field);
      // WHEN
      const manifests = synthAndValidate(chart);
      const fromExplain = Explainer.fromManifests(manifests).findings.filter(f => f.where === 'waypoint web/waypoint' && message.test(f.message));
      // THEN explain says it as a WARNING, and the Waypoint construct raised the same text
      expect(fromExplain.map(f => f.severity)).toEqual([FindingSeverity.WARNING]);
      expect(SourceIpWarnings.messages(waypoint)).toContain(findingText(fromExplain[0]));
    });
  });

  test('ipBlocks with external client ranges on a sidecar behind a gateway: one WARNING on both sides', () => {
    // GIVEN a TPROXY workload behind a gateway, with an ALLOW on ipBlocks for an external range
    const chart = new Chart(Testing.app(), 'test');
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
    gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
    const workload = new TproxyWorkload(chart, 'Httpbin', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
    });
    workload.allowFrom(['198.51.100.0/24'], { field: ClientIpField.IP_BLOCKS });
    // WHEN
    const manifests = synthAndValidate(chart);
    // THEN
    const found = Explainer.fromManifests(manifests).allFindings().filter(f => /^ipBlocks in .* list only external ranges, but behind gateway/.test(f.message));
    expect(found.map(f => `${f.severity} ${f.where}`)).toEqual(['warning workload default/httpbin']);
    expect(SourceIpWarnings.messages(workload)).toContain(findingText(found[0]));
  });

  test('the constructs report exactly the trace findings explain prints about their gateways and workloads', () => {
    // GIVEN the README's chart: a CDN and an L7 load balancer in front, TPROXY and a trusting sidecar behind
    const chart = new Chart(Testing.app(), 'my-mesh');
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      namespace: 'istio-ingress',
      trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn' }), TrustHop.l7LoadBalancer({ name: 'alb' })),
    });
    gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
    gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
    gateway.denyFrom(['198.51.100.0/24']);
    const workload = new TproxyWorkload(chart, 'Tproxy', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', namespace: 'web', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
    });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gateway), portNumber: 8000 });
    // WHEN
    const manifests = synthAndValidate(chart);
    const key = (f: Finding) => `${f.severity} ${f.where}: ${f.message}`;
    const constructs = constructFindings(topologyTraces(Topology.of(chart))[0].result).map(key).sort();
    const fromExplain = Explainer.fromManifests(manifests).paths.flatMap(p => p.findings)
      .filter(f => f.severity !== FindingSeverity.INFO).map(key);
    // THEN the same set
    expect([...new Set(fromExplain)].sort()).toEqual([...new Set(constructs)].sort());
  });
});
