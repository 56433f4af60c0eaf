import { Chart, JsonPatch, Testing } from 'cdk8s';
import {
  Explainer, ExternalTrafficPolicy, FindingSeverity, ForwardClientCertDetails, HttpsMode, InterceptionMode, IstioVersion,
  LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolGateway, ProxyProtocolMode, ProxyProtocolVersion, TproxyWorkload, WorkloadSource,
  XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { main } from '../../src/cli';
import { DEFAULT_ROOT_NAMESPACE, OPAQUE_PROTOCOLS } from '../../src/envoy/names';
import { parseManifests } from '../../src/explain/manifest-parser';
import { LB_PROXY_PROTOCOL_ANNOTATION } from '../../src/model/annotations';
import { LOAD_BALANCERS, recogniseLoadBalancer } from '../../src/model/load-balancers';
import { isOpaqueServer } from '../../src/model/servers';
import { findManifest, synthAndValidate } from '../harness';

/*
 * Output the constructs accept must read back, in `explain`, as the topology the constructs built: each case here
 * once disagreed (the constructs and explain each had their own picture of the same objects).
 */

const CLIENT = '203.0.113.10';

function errorsOf(manifests: any[], options = {}): string[] {
  return Explainer.fromManifests(manifests, options).allFindings()
    .filter(f => f.severity === FindingSeverity.ERROR)
    .map(f => `${f.where}: ${f.message}`);
}

function tcpEcho(chart: Chart, name: string, namespace = 'apps'): TproxyWorkload {
  return new TproxyWorkload(chart, name, {
    source: WorkloadSource.newDeployment({ image: 'istio/tcp-echo-server', name, namespace, port: 9000, servicePort: 9000 }),
  });
}

describe('attach mode', () => {
  test('explain finds the installation\'s Service through the library\'s annotation and raises no error', () => {
    // GIVEN an attached gateway: the partial Service (server-side apply) has no selector
    const chart = Testing.chart();
    const gw = PreservedIngressGateway.attach(chart, 'Attached');
    gw.addHttpServer();
    // WHEN
    const manifests = synthAndValidate(chart);
    const parsed = parseManifests(manifests);
    // THEN the gateway reads back with the Service's Local policy, and the gateway sees the client
    expect(parsed.gateways).toHaveLength(1);
    expect(parsed.gateways[0].model).toMatchObject({
      name: 'istio-ingressgateway', namespace: 'istio-system', externalTrafficPolicy: ExternalTrafficPolicy.LOCAL, serviceName: 'istio-ingressgateway',
    });
    expect(parsed.gateways[0].model).toMatchObject({ ...gw._gatewayModel()!, servers: [{ port: 80, protocol: 'HTTP' }] });
    expect(errorsOf(manifests)).toEqual([]);
    const path = Explainer.fromManifests(manifests).paths.find(p => p.direction === 'north-south')!;
    expect(path.hops.find(h => h.hop.startsWith('gateway'))!.clientAddress).toBe(CLIENT);
  });

  test('the topology the installation must run with is read back (numTrustedProxies), with a note', () => {
    const chart = Testing.chart();
    const gw = PreservedIngressGateway.attach(chart, 'Attached', {}, { numTrustedProxies: 1 });
    gw.addHttpServer();
    const manifests = synthAndValidate(chart);
    const parsed = parseManifests(manifests);
    expect(parsed.gateways[0].model.numTrustedProxies).toBe(1);
    expect(parsed.findings.some(f => f.severity === FindingSeverity.INFO && /assumed the installation's pods run with gatewayTopology/.test(f.message))).toBe(true);
  });
});

describe('PROXY protocol to a TCP backend', () => {
  function istioConApp(): { chart: Chart; echo: TproxyWorkload; backend: any } {
    const chart = Testing.chart();
    const echo = tcpEcho(chart, 'svc-b');
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
    gw.addTcpServer({ port: 9000 });
    gw.addTcpRoute({ port: 9000, backendHost: 'svc-b.apps.svc.cluster.local', backendPort: 9000 });
    const backend = gw.addProxyProtocolBackend('SvcB', { host: 'svc-b', port: 9000, workload: echo });
    return { chart, echo, backend };
  }

  test('explain reads the DestinationRule: the backend\'s sidecar sees the client, and nothing proposes the DestinationRule again', () => {
    // GIVEN
    const { chart } = istioConApp();
    // WHEN
    const manifests = synthAndValidate(chart);
    const report = Explainer.fromManifests(manifests);
    // THEN
    const path = report.paths.find(p => p.direction === 'north-south' && p.protocol === 'TCP')!;
    const sidecar = path.hops.find(h => h.hop.startsWith('sidecar'))!;
    expect(sidecar.proxyProtocolSource).toBe(CLIENT);
    expect(sidecar.clientAddress).toBe(CLIENT);
    expect(path.appSocketPeer).toBe(CLIENT); // TPROXY's original_src uses the address PROXY restored
    expect(report.allFindings().filter(f => /DestinationRule trafficPolicy\.proxyProtocol/.test(f.fix))).toEqual([]);
    expect(errorsOf(manifests)).toEqual([]);
  });

  test('the workload construct and the backend give one model of the same pods (XFF settings included)', () => {
    const { chart, echo, backend } = istioConApp();
    new XffSidecarFilter(chart, 'Xff', { workload: echo, trust: XffTrust.trustedHops(1) });
    expect(backend._workloadModel()).toEqual(echo._workloadModel());
    expect(echo._workloadModel()).toMatchObject({ proxyProtocolOnEveryPort: true, xffMode: 'trusted-hops', xffTrustedHops: 1 });
  });

  test('fails explain when a DestinationRule sends PROXY to a sidecar without the inbound filter', () => {
    // GIVEN the backend's inbound filter removed from otherwise valid output
    const { chart } = istioConApp();
    const manifests = synthAndValidate(chart).filter(m => !(m.kind === 'EnvoyFilter' && m.spec.configPatches[0].match.context === 'SIDECAR_INBOUND'));
    // THEN
    expect(errorsOf(manifests).join('\n')).toMatch(/DestinationRule makes every caller send PROXY protocol V2 to this workload, but its sidecar has no PROXY listener filter/);
  });
});

describe('load balancers that send PROXY without a cloud annotation', () => {
  test.each([
    ['Tencent CLB (console setting)', { loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB }, 'true'],
    ['Tencent CLB, version pinned', { loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB, proxyProtocolVersion: ProxyProtocolVersion.V2 }, 'V2'],
    ['AWS NLB with the annotations turned off', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, loadBalancerProxyProtocolAnnotations: false }, 'true'],
  ])('%s: the Service says so in the library\'s annotation, and explain sees the client', (_name, props, value) => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { ...props, inClusterCallers: false });
    gw.addTcpServer({ port: 9000 });
    // WHEN
    const manifests = synthAndValidate(chart);
    // THEN
    const service = findManifest(manifests, 'Service');
    expect(service.metadata.annotations[LB_PROXY_PROTOCOL_ANNOTATION]).toBe(value);
    const path = Explainer.fromManifests(manifests).paths[0];
    expect(path.hops.find(h => h.hop.startsWith('gateway'))!.clientAddress).toBe(CLIENT);
    expect(errorsOf(manifests)).toEqual([]);
  });

  test('a load balancer whose cloud annotation says PROXY gets no extra annotation', () => {
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
    gw.addTcpServer({ port: 9000 });
    expect(findManifest(synthAndValidate(chart), 'Service').metadata.annotations[LB_PROXY_PROTOCOL_ANNOTATION]).toBeUndefined();
  });
});

describe('units and defaults', () => {
  test('proxyProtocolPorts are Service ports in the construct and in explain', () => {
    // GIVEN PROXY only on 443 (listener 8443), not on 80 (listener 8080)
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', {
      proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
      proxyProtocolPorts: [443],
      loadBalancerProxyProtocolAnnotations: false,
      inClusterCallers: false,
    });
    gw.addHttpServer({ port: 80 });
    gw.addTlsPassthroughServer({ port: 443, hosts: ['db.example.com'] });
    // WHEN
    const parsed = parseManifests(synthAndValidate(chart));
    // THEN
    expect(gw._gatewayModel()!.proxyProtocolPorts).toEqual([443]);
    expect(parsed.gateways[0].model.proxyProtocolPorts).toEqual([443]);
    expect(parsed.gateways[0].model.servers.map(s => s.targetPort)).toEqual([8080, 8443]);
  });

  test('OPTIONAL PROXY on every server: the model lists the server ports in both', () => {
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { proxyProtocolMode: ProxyProtocolMode.OPTIONAL });
    gw.addTcpServer({ port: 9000 });
    gw.addHttpServer({ port: 80 });
    const parsed = parseManifests(synthAndValidate(chart));
    expect(gw._gatewayModel()!.proxyProtocolPorts).toEqual([80, 9000]);
    expect(parsed.gateways[0].model.proxyProtocolPorts).toEqual(gw._gatewayModel()!.proxyProtocolPorts);
  });

  test('a mesh-wide XffSidecarFilter in a custom root namespace reaches the workload in explain too', () => {
    // GIVEN
    const chart = Testing.chart();
    const workload = tcpEcho(chart, 'httpbin', 'web');
    new XffSidecarFilter(chart, 'Mesh', { scope: XffFilterScope.MESH, rootNamespace: 'mesh-root', trust: XffTrust.trustedHops(2) });
    // WHEN
    const parsed = parseManifests(synthAndValidate(chart));
    // THEN
    expect(workload._workloadModel()).toMatchObject({ xffMode: 'trusted-hops', xffTrustedHops: 2 });
    expect(parsed.rootNamespaces).toEqual([DEFAULT_ROOT_NAMESPACE, 'mesh-root']);
    expect(parsed.workloads[0]).toMatchObject({ xffMode: 'trusted-hops', xffTrustedHops: 2 });
  });

  test('one list of opaque protocols: TLS passthrough on an HTTPS server is opaque for checks and explain alike', () => {
    expect(OPAQUE_PROTOCOLS).toEqual(['TCP', 'TLS', 'MONGO']);
    expect(isOpaqueServer({ port: 443, protocol: 'HTTPS', hosts: ['*'], tlsMode: 'PASSTHROUGH' })).toBe(true);
    expect(isOpaqueServer({ port: 443, protocol: 'TLS', hosts: ['*'], tlsMode: 'AUTO_PASSTHROUGH' })).toBe(true);
    expect(isOpaqueServer({ port: 443, protocol: 'HTTPS', hosts: ['*'], tlsMode: 'SIMPLE' })).toBe(false);
  });

  test('the load-balancer table recognises every preset it renders', () => {
    for (const profile of LoadBalancerProfile.all()) {
      const recognised = recogniseLoadBalancer(profile.serviceAnnotations, profile.loadBalancerClass);
      expect({ id: profile.id, preserves: recognised.preservesSourceWithoutLocal })
        .toEqual({ id: profile.id, preserves: profile.preservesSourceWithoutLocal });
      const facts = LOAD_BALANCERS[profile.id];
      if (Object.keys(facts.proxyProtocol.serviceAnnotations ?? {}).length > 0) {
        expect(recogniseLoadBalancer({ ...profile.serviceAnnotations, ...facts.proxyProtocol.serviceAnnotations }).sendsProxyProtocol).toBe(true);
      }
    }
    expect(recogniseLoadBalancer({}).sendsProxyProtocol).toBe(false);
  });
});

describe('explain follows the Istio version', () => {
  function clusterGateway(istioVersion?: IstioVersion): any[] {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, istioVersion });
    gw.addHttpServer();
    return chart.toJson();
  }

  function gatewayHop(manifests: any[], options = {}): any {
    return Explainer.fromManifests(manifests, options).paths[0].hops.find(h => h.hop.startsWith('gateway'));
  }

  test('Istio 1.24 (Envoy 1.32): a private client (the node IP under Cluster) is internal: no X-Envoy-External-Address', () => {
    const hop = gatewayHop(clusterGateway(IstioVersion.V1_24));
    expect(hop.clientAddress).toBe('10.0.0.4');
    expect(hop.envoyInternal).toBe(true);
    const path = Explainer.fromManifests(clusterGateway(IstioVersion.V1_24)).paths[0];
    expect(path.appHeaderClient).toBeUndefined();
  });

  test('Istio 1.25+ (Envoy 1.33): no address is internal by default', () => {
    const hop = gatewayHop(clusterGateway(IstioVersion.V1_25));
    expect(hop.envoyInternal).toBeUndefined();
    expect(Explainer.fromManifests(clusterGateway(IstioVersion.V1_25)).paths[0].appHeaderClient).toBe('10.0.0.4');
  });

  test('the option overrides the manifests\' annotation', () => {
    expect(gatewayHop(clusterGateway(IstioVersion.V1_31), { istioVersion: IstioVersion.V1_24 }).envoyInternal).toBe(true);
    expect(gatewayHop(clusterGateway(IstioVersion.V1_24), { istioVersion: IstioVersion.V1_31 }).envoyInternal).toBeUndefined();
  });

  test('the CLI takes --istio-version, and fails on an unsupported one', () => {
    const text = JSON.stringify(clusterGateway(IstioVersion.V1_31).map(m => m)).replace(/^\[|\]$/g, '');
    const run = (args: string[]) => {
      let out = '';
      let err = '';
      main(args, { out: t => { out += t; }, err: t => { err += t; }, readFile: () => `{"kind":"List","items":[${text}]}` });
      return { out, err, code: process.exitCode };
    };
    const json = (r: { out: string }) => JSON.parse(r.out).paths[0].hops.find((h: any) => h.hop.startsWith('gateway'));
    expect(json(run(['explain', '--json', '--istio-version', '1.24', 'app.yaml'])).envoyInternal).toBe(true);
    expect(json(run(['explain', '--json', '--istio-version=1.26', 'app.yaml'])).envoyInternal).toBeUndefined();
    const bad = run(['explain', '--istio-version', '1.9', 'app.yaml']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/istioVersion "1.9" is not supported/);
    process.exitCode = 0;
  });
});

describe('one resolution of the shared gateway props', () => {
  test.each([
    ['PreservedIngressGateway', (c: Chart, p: any) => new PreservedIngressGateway(c, 'Gw', p)],
    ['ProxyProtocolGateway', (c: Chart, p: any) => new ProxyProtocolGateway(c, 'Gw', p)],
  ])('fails %s with a forwardClientCertDetails that is not a member', (_name, make) => {
    expect(() => make(Testing.chart(), { forwardClientCertDetails: 'BOGUS' })).toThrow(/forwardClientCertDetails "BOGUS" is not allowed: use a ForwardClientCertDetails member/);
    expect(() => make(Testing.chart(), { forwardClientCertDetails: ForwardClientCertDetails.SANITIZE })).not.toThrow();
  });

  test('the rendered deployment and service are public, for addJsonPatch', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway');
    gw.addHttpsServer({ credentialName: 'cert', mode: HttpsMode.SIMPLE });
    gw.service!.addJsonPatch(JsonPatch.add('/spec/loadBalancerSourceRanges', ['198.51.100.0/24']));
    gw.deployment!.addJsonPatch(JsonPatch.add('/spec/template/spec/nodeSelector', { pool: 'edge' }));
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Service').spec.loadBalancerSourceRanges).toEqual(['198.51.100.0/24']);
    expect(findManifest(manifests, 'Deployment').spec.template.spec.nodeSelector).toEqual({ pool: 'edge' });
  });
});

test('REDIRECT workloads read back with their interception mode', () => {
  const chart = Testing.chart();
  const w = new TproxyWorkload(chart, 'Web', { source: WorkloadSource.newDeployment({ image: 'httpbin', name: 'web', port: 80 }), interceptionMode: InterceptionMode.REDIRECT });
  expect(parseManifests(synthAndValidate(chart)).workloads[0].interceptionMode).toBe(w.interceptionMode);
});
