import { Chart, Testing } from 'cdk8s';
import {
  CdnOnlyPolicy, CidrList, Explainer, ExternalTrafficPolicy, FindingSeverity, InterceptionMode, MeshWorkload, PreservedIngressGateway,
  SidecarXffMode, SourceIpWarnings, TproxyWorkload, TrustChain, TrustHop, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { findManifest, synthAndValidate, validateEnvoyMessage } from '../harness';

function gatewayBehindCdn(chart: Chart, clientHeader = 'CF-Connecting-IP'): PreservedIngressGateway {
  const gateway = new PreservedIngressGateway(chart, 'Gateway', {
    trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/24'], clientHeader }), TrustHop.l4PassThrough()),
  });
  gateway.addHttpServer();
  return gateway;
}

describe('XffTrust.clientHeader', () => {
  test('renders the custom_header extension, fail closed with 403, validated against Envoy protos', () => {
    // GIVEN a gateway reachable only through the CDN
    const chart = Testing.chart();
    const gateway = gatewayBehindCdn(chart);
    const cdnOnly = new CdnOnlyPolicy(chart, 'CdnOnly', { gateway });
    const workload = MeshWorkload.fromLabels(chart, 'App', { labels: { app: 'web' } });
    // WHEN
    const filter = new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', enforcedBy: cdnOnly }), portNumber: 8080 });
    // THEN
    const manifests = synthAndValidate(chart);
    const patch = findManifest(manifests, 'EnvoyFilter').spec.configPatches[0];
    expect(patch.match.context).toBe('SIDECAR_INBOUND');
    expect(patch.patch.value.typed_config.original_ip_detection_extensions[0].typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig',
      'header_name': 'cf-connecting-ip',
      'allow_extension_to_set_address_as_trusted': true,
      'reject_with_status': { code: 'Forbidden' },
    });
    expect(filter.trust.mode).toBe(SidecarXffMode.CUSTOM_HEADER);
    expect(SourceIpWarnings.of(chart).map(w => w.message)).toContainEqual(expect.stringMatching(/a pod that calls it directly, bypassing the gateway, can forge its client address/));
  });

  test('fail open renders no reject_with_status; another status is rendered by name', () => {
    const open = XffTrust.clientHeader({ headerName: 'True-Client-IP', onlyReachableThroughCdn: true, failOpen: true })._hcmFields() as any;
    expect(open.original_ip_detection_extensions[0].typed_config).not.toHaveProperty('reject_with_status');
    expect(open.original_ip_detection_extensions[0].typed_config.header_name).toBe('true-client-ip');
    const trust = XffTrust.clientHeader({ headerName: 'X-Azure-ClientIP', onlyReachableThroughCdn: true, rejectStatus: 400 });
    expect((trust._hcmFields() as any).original_ip_detection_extensions[0].typed_config.reject_with_status).toEqual({ code: 'BadRequest' });
    expect(trust.clientHeaderName).toBe('x-azure-clientip');
    expect(trust.clientHeaderRejectStatus).toBe(400);
  });

  test('fails without proof that the gateway is reachable only through the CDN', () => {
    expect(() => XffTrust.clientHeader({ headerName: 'CF-Connecting-IP' }))
      .toThrow('headerName "CF-Connecting-IP" is refused without proof that the gateway is reachable only through the CDN');
  });

  test.each([
    ['X-Forwarded-For', /use trusted CIDRs/],
    ['x-envoy-external-address', /is not allowed: it is a header Envoy writes/],
    ['bad header', /is not an HTTP header name/],
  ])('fails on header name %j', (headerName, message) => {
    expect(() => XffTrust.clientHeader({ headerName, onlyReachableThroughCdn: true })).toThrow(message);
  });

  test('fails on a reject status Envoy does not map, and on failOpen with a status', () => {
    expect(() => XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', onlyReachableThroughCdn: true, rejectStatus: 500 })).toThrow('rejectStatus 500 is not allowed: use 403 (the default), 400 or 401');
    expect(() => XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', onlyReachableThroughCdn: true, failOpen: true, rejectStatus: 403 })).toThrow(/not allowed with failOpen true/);
  });

  test('fails when the header differs from the one the gateway\'s CDN hop declares', () => {
    const chart = Testing.chart();
    const cdnOnly = new CdnOnlyPolicy(chart, 'CdnOnly', { gateway: gatewayBehindCdn(chart) });
    expect(() => XffTrust.clientHeader({ headerName: 'True-Client-IP', enforcedBy: cdnOnly }))
      .toThrow(/differs from clientHeader "cf-connecting-ip" of the trust chain/);
  });
});

describe('CdnOnlyPolicy', () => {
  test('CDN directly in front (L4 pass-through, Local): ipBlocks on the packet source, ranges from the chain', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = gatewayBehindCdn(chart);
    // WHEN
    new CdnOnlyPolicy(chart, 'CdnOnly', { gateway, name: 'cdn-only' });
    // THEN
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Service').spec.externalTrafficPolicy).toBe('Local');
    expect(findManifest(manifests, 'AuthorizationPolicy', 'cdn-only').spec.rules).toEqual([{ from: [{ source: { notIpBlocks: ['198.51.100.0/24'] } }] }]);
  });

  test('an L7 load balancer after the CDN: remoteIpBlocks with one trusted hop, ranges from a CidrList', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      trustChain: TrustChain.of(TrustHop.cdn({ clientHeader: 'True-Client-IP' }), TrustHop.l7LoadBalancer()),
    });
    gateway.addHttpServer();
    new CdnOnlyPolicy(chart, 'CdnOnly', { gateway, name: 'cdn-only', cdnCidrs: CidrList.fromText('192.0.2.0/25\n192.0.2.128/25\n') });
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'AuthorizationPolicy', 'cdn-only').spec.rules).toEqual([{ from: [{ source: { notRemoteIpBlocks: ['192.0.2.0/24'] } }] }]);
    expect(JSON.parse(findManifest(manifests, 'Deployment').spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology.numTrustedProxies).toBe(1);
  });

  test('fails when the gateway trusts more hops than follow the CDN (remote.ip would be the client)', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['192.0.2.0/24'] }), TrustHop.l7LoadBalancer()) });
    gateway.addHttpServer();
    new CdnOnlyPolicy(chart, 'CdnOnly', { gateway });
    expect(() => Testing.synth(chart)).toThrow(/has numTrustedProxies 2, so remote.ip is not the CDN hop "cdn" \(1 X-Forwarded-For appending hop\(s\) after it\)/);
  });

  test('fails without CDN ranges, and on a target that is not a gateway', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL });
    expect(() => new CdnOnlyPolicy(chart, 'A', { gateway })).toThrow(/cdnCidrs is required/);
    const workload = MeshWorkload.fromLabels(chart, 'App', { labels: { app: 'web' } });
    expect(() => new CdnOnlyPolicy(chart, 'B', { gateway: workload, cdnCidrs: CidrList.fromCidrs(['192.0.2.0/24']) })).toThrow(/not gateway/);
  });
});

describe('TrustHop clientHeader', () => {
  test('the gateway counts only the appending hops after the header hop; the annotation round-trips it', () => {
    const chain = TrustChain.of(TrustHop.cdn({ clientHeader: 'CF-Connecting-IP', cidrs: ['192.0.2.0/24'] }), TrustHop.l7LoadBalancer(), TrustHop.l7LoadBalancer({ name: 'waf' }));
    expect(chain.derive()).toEqual(expect.objectContaining({ numTrustedProxies: 2, clientHeader: 'cf-connecting-ip', clientHeaderHopCidrs: ['192.0.2.0/24'], externalTrafficPolicy: 'Cluster' }));
    const back = TrustChain.fromAnnotationValue(chain.toAnnotationValue());
    expect(back.derive()).toEqual(chain.derive());
  });

  test('fails on an L4 hop, on two header hops and on a reserved header', () => {
    expect(() => TrustHop.l4PassThrough({ clientHeader: 'CF-Connecting-IP' })).toThrow(/only CDN and L7 load balancer hops set request headers/);
    expect(() => TrustChain.of(TrustHop.cdn({ clientHeader: 'a' }), TrustHop.l7LoadBalancer({ clientHeader: 'b' }))).toThrow(/both set clientHeader/);
    expect(() => TrustHop.cdn({ clientHeader: 'X-Forwarded-For' })).toThrow(/not allowed/);
  });
});

describe('the harness checks custom_header configs against the shipped protos', () => {
  test('accepts what the library renders and refuses an unknown status or a missing header name', () => {
    const type = 'envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig';
    expect(validateEnvoyMessage(type, { header_name: 'cf-connecting-ip', allow_extension_to_set_address_as_trusted: true, reject_with_status: { code: 'Forbidden' } })).toEqual([]);
    expect(validateEnvoyMessage(type, { header_name: 'cf-connecting-ip', reject_with_status: { code: 'Nope' } }).join()).toMatch(/"Nope" is not a value of envoy.type.v3.StatusCode/);
    expect(validateEnvoyMessage(type, { header_name: '' }).join()).toMatch(/at least 1 characters/);
  });
});

describe('XffTrust.trustedCidrsOf', () => {
  test('takes the ranges of the appending hops from the gateway\'s chain, plus the cluster ranges, aggregated', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/25', '198.51.100.128/25'], variableHops: true }), TrustHop.l7LoadBalancer({ cidrs: ['100.64.0.0/24'] }), TrustHop.l4PassThrough()),
    });
    expect(XffTrust.trustedCidrsOf(gateway, ['10.0.0.0/16', '10.244.0.0/16']).cidrs).toEqual(['10.0.0.0/16', '10.244.0.0/16', '100.64.0.0/24', '198.51.100.0/24']);
  });

  test('fails on an appending hop without cidrs, without cluster ranges, and on a gateway without a chain', () => {
    const chart = Testing.chart();
    const withBlindHop = new PreservedIngressGateway(chart, 'A', { trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/24'] }), TrustHop.l7LoadBalancer()) });
    expect(() => XffTrust.trustedCidrsOf(withBlindHop, ['10.0.0.0/16'])).toThrow(/hop "l7-load-balancer" of gateway "test\/A" appends to X-Forwarded-For but has no cidrs/);
    const good = new PreservedIngressGateway(chart, 'B', { trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/24'] })) });
    expect(() => XffTrust.trustedCidrsOf(good, [])).toThrow(/^clusterCidrs is empty/);
    const noChain = new PreservedIngressGateway(chart, 'C');
    expect(() => XffTrust.trustedCidrsOf(noChain, ['10.0.0.0/16'])).toThrow(/is not an ingress gateway with a trustChain/);
  });
});

describe('explain on a client-header setup', () => {
  function setup(enforce: boolean): Chart {
    const chart = Testing.chart();
    const gateway = gatewayBehindCdn(chart);
    gateway.addRoute({ backendHost: 'web.default.svc.cluster.local', backendPort: 8080 });
    const web = new TproxyWorkload(chart, 'Web', {
      interceptionMode: InterceptionMode.TPROXY,
      source: WorkloadSource.newDeployment({ image: 'nginx', name: 'web', port: 8080, servicePort: 8080, labels: { app: 'web' } }),
    });
    const trust = enforce
      ? XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', enforcedBy: new CdnOnlyPolicy(chart, 'CdnOnly', { gateway }) })
      : XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', onlyReachableThroughCdn: true });
    new XffSidecarFilter(chart, 'Xff', { workload: web, trust, portNumber: 8080 });
    return chart;
  }

  test('CDN directly in front: the CdnOnlyPolicy on ipBlocks denies a client that skips the CDN', () => {
    const path = Explainer.fromChart(setup(true)).paths.find(p => p.direction === 'north-south')!;
    expect(path.hops.find(h => h.hop.startsWith('sidecar'))!.clientAddress).toBe('203.0.113.10');
    expect(path.findings.map(f => f.message)).toContain('a client at 203.0.113.66 that skips cdn and forges cf-connecting-ip: 192.0.2.66 is denied at the gateway');
    expect(path.findings.filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
  });

  test('an acknowledgement is carried in the output: the bypass is a warning that rests on it, on both sides', () => {
    // GIVEN onlyReachableThroughCdn without anything in the objects that makes it so
    const chart = setup(false);
    const path = Explainer.fromChart(chart).paths.find(p => p.direction === 'north-south')!;
    // THEN explain and the constructs say the bypass would reach the sidecar, resting on the acknowledgement
    const warning = path.findings.find(f => /^a client at 203.0.113.66 that skips cdn and forges cf-connecting-ip: 192.0.2.66 would get 192.0.2.66/.test(f.message))!;
    expect(warning.severity).toBe(FindingSeverity.WARNING);
    expect(warning.message).toMatch(/only the acknowledgement that the gateway is reachable only through it \(onlyReachableThroughCdn\)$/);
    expect(SourceIpWarnings.messages(chart)).toContain(`${warning.message}; ${warning.fix}`);
  });

  test('without the acknowledgement annotation, explain reports the bypass as spoofable', () => {
    // GIVEN the same output with the library's acknowledgement annotation removed (hand-written YAML)
    const manifests = setup(false).toJson().map((o: any) => o.kind === 'EnvoyFilter'
      ? { ...o, metadata: { ...o.metadata, annotations: {} } } : o);
    // THEN the bypass is an error
    const path = Explainer.fromManifests(manifests).paths.find(p => p.direction === 'north-south')!;
    expect(path.findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.ERROR,
      message: 'spoofable: a client at 203.0.113.66 that skips cdn and forges cf-connecting-ip: 192.0.2.66 gets 192.0.2.66 as its address at the sidecar; nothing at the gateway requires the CDN',
    }));
  });
});
