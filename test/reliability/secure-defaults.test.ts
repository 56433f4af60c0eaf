import { Chart, Testing } from 'cdk8s';
import {
  IstioVersion, LoadBalancerProfile, MeshWorkload, PreservedIngressGateway, ProxyProtocolBackend, ProxyProtocolFilterContext, ProxyProtocolGateway,
  ProxyProtocolListenerFilter, ProxyProtocolMode, SourceIpWarnings, TrustChain, TrustHop, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

/*
 * Secure defaults: what a user gets without asking for anything, and the warnings for every setting that lets a
 * client forge its address (reference istio-source-ip.md §9, pitfalls 18, 19 and 20).
 *
 */

const BACKEND = 'httpbin.default.svc.cluster.local';

function topologyOf(manifests: any[]): any {
  const deployment = findManifest(manifests, 'Deployment');
  return JSON.parse(deployment.spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology;
}

function httpGateway(chart: Chart, props: ConstructorParameters<typeof PreservedIngressGateway>[2] = {}): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', props);
  gw.addHttpServer({ hosts: ['app.example.com'] });
  gw.addRoute({ host: 'app.example.com', backendHost: BACKEND, backendPort: 8000 });
  return gw;
}

function tcpGateway(chart: Chart, props: ConstructorParameters<typeof ProxyProtocolGateway>[2] = {}): ProxyProtocolGateway {
  const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, ...props });
  gw.addTcpServer({ port: 9000 });
  gw.addTcpRoute({ port: 9000, backendHost: BACKEND, backendPort: 9000 });
  return gw;
}

/** Warnings that say a client can forge (spoof) its address. */
function forgeryWarnings(chart: Chart): string[] {
  return SourceIpWarnings.messages(chart).filter(w => /spoof|forge/i.test(w));
}

describe('no EnvoyFilter without a workloadSelector unless asked', () => {
  function everyEnvoyFilterSelects(manifests: any[]): void {
    const filters = manifestsOfKind(manifests, 'EnvoyFilter');
    expect(filters.length).toBeGreaterThan(0);
    for (const f of filters) {
      expect(f.spec.workloadSelector?.labels).toBeDefined();
      expect(Object.keys(f.spec.workloadSelector.labels).length).toBeGreaterThan(0);
    }
  }

  test.each([ProxyProtocolMode.OPTIONAL, ProxyProtocolMode.STRICT_PER_PORT])('ProxyProtocolGateway %s selects the gateway pods', mode => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const ports = mode === ProxyProtocolMode.STRICT_PER_PORT ? { proxyProtocolPorts: [9000] } : {};
    tcpGateway(chart, { proxyProtocolMode: mode, ...ports, inClusterCallers: false });
    // THEN
    const manifests = synthAndValidate(chart);
    everyEnvoyFilterSelects(manifests);
    expect(findManifest(manifests, 'EnvoyFilter').spec.workloadSelector.labels).toEqual(findManifest(manifests, 'Deployment').spec.selector.matchLabels);
  });

  test('ProxyProtocolBackend and ProxyProtocolListenerFilter always select pods', () => {
    const chart = Testing.chart();
    new ProxyProtocolBackend(chart, 'Backend', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000 });
    new ProxyProtocolListenerFilter(chart, 'Filter', { namespace: 'apps', selector: { app: 'legacy' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND });
    everyEnvoyFilterSelects(synthAndValidate(chart));
  });

  test('XffSidecarFilter selects the workload by default and refuses to go without a selector', () => {
    const chart = Testing.chart();
    const w = MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'httpbin' }, namespace: 'apps' });
    new XffSidecarFilter(chart, 'F', { trust: XffTrust.trustedHops(1), workload: w });
    everyEnvoyFilterSelects(synthAndValidate(chart));
    expect(() => new XffSidecarFilter(Testing.chart(), 'F', { trust: XffTrust.useRemoteAddress(), namespace: 'apps' })).toThrow(/^selector undefined is not allowed: an EnvoyFilter without workloadSelector/);
    expect(() => new XffSidecarFilter(Testing.chart(), 'F', { trust: XffTrust.useRemoteAddress(), selector: {} })).toThrow(/^selector \{\} is not allowed/);
  });

  test('only an explicit scope NAMESPACE or MESH emits an EnvoyFilter without a selector', () => {
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'Ns', { trust: XffTrust.useRemoteAddress(), namespace: 'apps', scope: XffFilterScope.NAMESPACE });
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'EnvoyFilter').spec.workloadSelector).toBeUndefined();
  });
});

describe('numTrustedProxies is 0 unless a chain says otherwise', () => {
  test.each(IstioVersion.all().map(v => [v.label, v]))('PreservedIngressGateway defaults to 0 (Istio %s)', (_label, istioVersion) => {
    const chart = Testing.chart();
    httpGateway(chart, { istioVersion });
    expect(topologyOf(synthAndValidate(chart, { istioVersion })).numTrustedProxies).toBe(0);
  });

  test('ProxyProtocolGateway defaults to 0 (PROXY hops are not XFF hops)', () => {
    const chart = Testing.chart();
    tcpGateway(chart, { inClusterCallers: false });
    expect(topologyOf(synthAndValidate(chart)).numTrustedProxies).toBe(0);
  });

  test('an L4 pass-through or PROXY chain keeps 0; each XFF-appending hop counts one', () => {
    const count = (chain: TrustChain, proxy: boolean) => {
      const chart = Testing.chart();
      if (proxy) tcpGateway(chart, { trustChain: chain, inClusterCallers: false });
      else httpGateway(chart, { trustChain: chain, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
      return topologyOf(synthAndValidate(chart)).numTrustedProxies;
    };
    expect(count(TrustChain.direct(), false)).toBe(0);
    expect(count(TrustChain.of(TrustHop.l4PassThrough()), false)).toBe(0);
    expect(count(TrustChain.of(TrustHop.l4ProxyProtocol()), true)).toBe(0);
    expect(count(TrustChain.of(TrustHop.cdn(), TrustHop.l4PassThrough()), false)).toBe(1);
    expect(count(TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough()), false)).toBe(2);
  });
});

describe('PROXY protocol is strict unless asked', () => {
  test('ProxyProtocolGateway defaults to the native strict setting and no optional filter', () => {
    const chart = Testing.chart();
    const gw = tcpGateway(chart, { inClusterCallers: false });
    const manifests = synthAndValidate(chart);
    expect(topologyOf(manifests).proxyProtocol).toEqual({});
    expect(manifestsOfKind(manifests, 'EnvoyFilter')).toEqual([]);
    expect(gw._gatewayModel()!.proxyProtocol).toBe(ProxyProtocolMode.STRICT);
  });

  test('STRICT_PER_PORT never accepts connections without PROXY', () => {
    const chart = Testing.chart();
    tcpGateway(chart, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9000], inClusterCallers: false });
    const filter = findManifest(synthAndValidate(chart), 'EnvoyFilter');
    expect(JSON.stringify(filter)).not.toMatch(/allow_requests_without_proxy_protocol/);
  });

  test('ProxyProtocolBackend and ProxyProtocolListenerFilter require the header by default', () => {
    const chart = Testing.chart();
    new ProxyProtocolBackend(chart, 'Backend', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000 });
    new ProxyProtocolListenerFilter(chart, 'Filter', { namespace: 'apps', selector: { app: 'legacy' }, ports: [8443] });
    const manifests = synthAndValidate(chart);
    expect(manifestsOfKind(manifests, 'EnvoyFilter')).toHaveLength(2);
    expect(JSON.stringify(manifests)).not.toMatch(/allow_requests_without_proxy_protocol/);
  });

  test('OPTIONAL is the only gateway mode that accepts connections without PROXY', () => {
    const chart = Testing.chart();
    tcpGateway(chart, { proxyProtocolMode: ProxyProtocolMode.OPTIONAL });
    const filter = findManifest(synthAndValidate(chart), 'EnvoyFilter');
    expect(filter.spec.configPatches[0].patch.value.typed_config.allow_requests_without_proxy_protocol).toBe(true);
  });
});

describe('warnings wherever a setting lets a client forge its address', () => {
  test('the defaults raise no forgery warning', () => {
    const chart = Testing.chart();
    httpGateway(chart);
    expect(forgeryWarnings(chart)).toEqual([]);
  });

  test('an unusually high numTrustedProxies warns that clients can spoof their address', () => {
    const chart = Testing.chart();
    httpGateway(chart, { numTrustedProxies: 6, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    expect(forgeryWarnings(chart).join('\n')).toMatch(/numTrustedProxies 6 is unusually high: .*spoof/);
  });

  test('numTrustedProxies with PROXY protocol warns that X-Forwarded-For wins over PROXY (pitfall 20)', () => {
    const chart = Testing.chart();
    tcpGateway(chart, { numTrustedProxies: 1, inClusterCallers: false });
    expect(SourceIpWarnings.messages(chart).join('\n')).toMatch(/numTrustedProxies 1 with PROXY protocol: for HTTP servers the X-Forwarded-For header takes precedence and the PROXY client address is ignored/);
  });

  test('strict PROXY warns that in-cluster callers are reset (pitfall 18)', () => {
    const chart = Testing.chart();
    tcpGateway(chart);
    expect(SourceIpWarnings.messages(chart).join('\n')).toMatch(/proxyProtocolMode strict: clients inside the cluster that call the gateway Service send no PROXY header and are reset/);
  });

  // Settings that let a client forge its address: each synthesises valid objects and raises a warning saying so.
  const FORGEABLE: Array<{ readonly title: string; readonly build: (chart: Chart) => void }> = [
    {
      // Pitfall 19: numTrustedProxies > 0 also trusts X-Forwarded-Proto/-Port, and when the hop in front does not
      // always append X-Forwarded-For (or clients reach the load balancer directly) the client chooses remote.ip.
      // PreservedIngressGateway warns only above 5 hops.
      title: 'numTrustedProxies 1 without a trust chain (pitfall 19: spoofable if the hop does not always append X-Forwarded-For)',
      build: chart => httpGateway(chart, { numTrustedProxies: 1, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP }),
    },
    {
      // allow_requests_without_proxy_protocol: anyone who reaches the port may send a forged PROXY header (the
      // listener filter's own docs say so).
      title: 'optional PROXY on a ProxyProtocolGateway (anyone reaching the port can send a forged PROXY header)',
      build: chart => tcpGateway(chart, { proxyProtocolMode: ProxyProtocolMode.OPTIONAL }),
    },
    {
      title: 'a ProxyProtocolBackend that also accepts connections without PROXY (callers without a sidecar can forge the header)',
      build: chart => new ProxyProtocolBackend(chart, 'Backend', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000, allowRequestsWithoutProxyProtocol: true }),
    },
    {
      title: 'an XffSidecarFilter that trusts XFF hops (callers that bypass the gateway can forge X-Forwarded-For)',
      build: chart => {
        const w = MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'httpbin' }, namespace: 'apps' });
        new XffSidecarFilter(chart, 'F', { trust: XffTrust.trustedHops(1), workload: w });
      },
    },
  ];

  // Trusting every address as a proxy hop means every X-Forwarded-For entry is trusted: the client writes its own.
  test('fails trusted CIDRs that cover every address (the client would pick its own address)', () => {
    expect(() => XffTrust.trustedCidrs(['10.0.0.0/8', '0.0.0.0/0'])).toThrow(/^trustedCidrs "0.0.0.0\/0" is not allowed: it trusts every address/);
    expect(() => XffTrust.trustedCidrs(['::/0'])).toThrow(/^trustedCidrs "::\/0" is not allowed/);
  });

  for (const { title, build } of FORGEABLE) {
    test(`control: ${title} synthesises valid objects`, () => {
      const chart = Testing.chart();
      build(chart);
      expect(synthAndValidate(chart).length).toBeGreaterThan(0);
    });
    test(`${title} warns that the client address can be forged`, () => {
      const chart = Testing.chart();
      build(chart);
      synthAndValidate(chart);
      expect(forgeryWarnings(chart)).not.toEqual([]);
    });
  }
});
