import { Testing } from 'cdk8s';
import { expectationsOf, maskedCidr } from './expectations';
import { exampleSetsFor, FixtureSet, scenarioSets, WHOLE_EXAMPLE_SET } from './fixtures';
import { ClientIpField, IstioVersion, MeshWorkload, PreservedIngressGateway, SourceIpPolicy, XffSidecarFilter, XffTrust } from '../../src';

/*
 * The expectations the conformance stage compares istiod's output with (expectations.json, conformance/istio
 * expectations.go): they come from the trace over the constructs' model, never from the YAML under test. The Go
 * mutation suite (conformance/istio/mutations_test.go, run by .ci/conformance.sh) shows that editing the YAML alone
 * fails the stage; these tests show what the expectations say and that they follow the constructs.
 */

function gatewayChart(numTrustedProxies: number) {
  const chart = Testing.chart();
  const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies });
  gateway.addHttpServer({ hosts: ['web.example.com'] });
  gateway.allowFrom(['192.0.2.0/24']);
  gateway.denyFrom(['10.1.0.0/16'], { field: ClientIpField.IP_BLOCKS });
  Testing.synth(chart);
  return chart;
}

describe('trace expectations', () => {
  let scenarios: FixtureSet[];
  let examples: FixtureSet[];
  beforeAll(() => {
    scenarios = scenarioSets();
    examples = exampleSetsFor(IstioVersion.of('1.30'));
  });

  test('a gateway expects the hops, listeners, Service and policies its construct declares', () => {
    // GIVEN a gateway that trusts one hop, with an ALLOW on the client and a DENY on the peer
    const chart = gatewayChart(1);
    // WHEN the expectations are computed from the constructs
    const e = expectationsOf(chart.node.root, () => true);
    // THEN the gateway proxy must have use_remote_address with one hop, a listener on 8080 without PROXY, a Local
    // Service, and each policy on its field
    const gw = e.proxies.find(p => p.role === 'gateway')!;
    expect(gw.hcm).toEqual({ useRemoteAddress: true, xffNumTrustedHops: 1, detection: '', trustedCidrs: [], headerName: '' });
    expect(gw.listeners).toEqual([{ port: 8080, proxyProtocol: 'none' }]);
    expect(gw.service?.externalTrafficPolicy).toBe('Local');
    expect(gw.rbac.map(r => `${r.action} ${r.field} ${r.cidrs} negated=${r.negated}`).sort())
      .toEqual(['ALLOW remote_ip 192.0.2.0/24 negated=false', 'DENY direct_remote_ip 10.1.0.0/16 negated=false']);
    expect(e.dead).toEqual([]);
  });

  test('the expectations follow the construct, not its output', () => {
    // GIVEN the same gateway trusting two hops WHEN the expectations are computed THEN they expect two
    expect(expectationsOf(gatewayChart(2).node.root, () => true).proxies.find(p => p.role === 'gateway')!.hcm!.xffNumTrustedHops).toBe(2);
  });

  test('a sidecar the library does not model gets Istio\'s defaults and the model\'s filters', () => {
    // GIVEN the mesh-wide XFF scenario: a filter in the root namespace, and two user Deployments
    const set = scenarios.find(s => s.name === 'scenario-xff-mesh-wide')!;
    // WHEN its expectations are read THEN both sidecars trust one hop, REDIRECT, and orders carries its DENY policy
    const sidecars = set.expectations.proxies.filter(p => p.role === 'sidecar');
    expect(sidecars.map(p => `${p.namespace}/${p.name} ${p.interceptionMode} hops=${p.inboundHcm!.xffNumTrustedHops}`).sort())
      .toEqual(['finance/billing REDIRECT hops=1', 'shop/orders REDIRECT hops=1']);
    expect(sidecars.find(p => p.name === 'orders')!.rbac.map(r => `${r.action} ${r.field} ${r.cidrs}`)).toEqual(['DENY remote_ip 198.51.100.0/24']);
  });

  test('a policy port and an XFF filter port are expected on their ports', () => {
    // GIVEN the TPROXY scenario with a trusted-CIDR filter on 8000 and a DENY on 8000 WHEN read
    const httpbin = scenarios.find(s => s.name === 'scenario-xff-trusted-cidrs-one-port-tproxy')!.expectations.proxies.find(p => p.name === 'httpbin')!;
    // THEN the filter is expected on port 8000 only, the DENY with destination port 8000
    expect(httpbin.interceptionMode).toBe('TPROXY');
    expect(Object.keys(httpbin.hcmByPort!)).toEqual(['8000']);
    expect(httpbin.hcmByPort!['8000'].trustedCidrs).toEqual(['10.244.0.0/16', '172.17.0.0/16']);
    expect(httpbin.rbac.find(r => r.action === 'DENY')!.ports).toEqual([8000]);
  });

  test('per-client rate limits are expected on the hop the trace places them on, and nowhere else', () => {
    // GIVEN the scenario with a limit on the gateway and one on the TPROXY sidecar behind it, and a user workload
    const set = scenarios.find(s => s.name === 'scenario-rate-limit-gateway-and-sidecar')!;
    // WHEN its expectations are read
    const limits = set.expectations.proxies.map(p => `${p.role} ${p.namespace}/${p.name}: ${p.rateLimits.map(l =>
      `${l.rateLimit} ${l.tokensPerFill}/${l.fillIntervalMillis}ms max ${l.maxTokens} clients ${l.maxDynamicDescriptors}`).join(', ')}`).sort();
    // THEN the gateway and echo's sidecar each have their bucket settings, and the other sidecar none
    expect(limits).toEqual([
      expect.stringMatching(/^gateway \S+: \S+rate-limit-per-client 10\/1000ms max 20 clients 10000$/),
      'sidecar web/echo: web/echo-rate-limit-per-client 5/10000ms max 5 clients 100',
      'sidecar web/orders: ',
    ]);
  });

  test('the example chart client-ip-usage expects its limit on the gateway only', () => {
    // GIVEN the example sets WHEN the client-ip-usage chart's expectations are read
    const set = examples.find(s => s.name === 'example-client-ip-usage')!;
    // THEN only the gateway carries a rate limit
    expect(set.expectations.proxies.filter(p => p.rateLimits.length > 0).map(p => p.role)).toEqual(['gateway']);
    expect(set.expectations.proxies.length).toBeGreaterThan(1);
  });

  test('the client-address header is expected on its writer only: a gateway, a sidecar, a Gateway API gateway', () => {
    // GIVEN the example's client-address charts and the Gateway API scenario
    const sets = [...examples, ...scenarios].filter(s => /client-header-(gateway|sidecar)$|gateway-api-client-header/.test(s.name));
    // WHEN their expectations are read
    const writers = sets.flatMap(s => s.expectations.proxies.map(p => `${s.name}: ${p.role} ${p.clientAddressHeader || '-'}`)).sort();
    // THEN the model's writer carries the header, every other proxy none
    expect(writers).toEqual([
      'example-ns-client-header-gateway: gateway x-real-ip',
      'example-ns-client-header-gateway: sidecar -',
      'example-ns-client-header-sidecar: gateway -',
      'example-ns-client-header-sidecar: sidecar x-real-ip',
      'scenario-gateway-api-client-header-and-rate-limit: gateway x-client-ip',
      'scenario-gateway-api-client-header-and-rate-limit: sidecar -',
    ]);
  });

  test('dead objects are named with the model\'s reason', () => {
    // GIVEN the example charts WHEN their expectations are read THEN the filters and policies that reach no Envoy of
    // their set are listed with why: a workload known by its labels, an ambient workload
    const dead = examples.flatMap(s => s.expectations.dead.map(d => `${s.name}: ${d.object}: ${d.reason.split(':')[0]}`));
    expect(dead).toEqual(expect.arrayContaining([
      expect.stringMatching(/^example-tcp-proxy-protocol-to-backend: EnvoyFilter apps\/svc-b-proxy-protocol-inbound: the PROXY protocol backend/),
      expect.stringMatching(/^example-ew-xff-httpbin-gateway-hops: EnvoyFilter .*: its workload ew-xff-httpbin-gateway-hops\/httpbin is known by its labels only/),
      expect.stringMatching(/^example-ambient-no-waypoint: AuthorizationPolicy .*: its workload web\/httpbin is ambient/),
    ]));
    // and a policy attached to a waypoint is not dead: it reaches the waypoint proxy the stage generates
    expect(dead.filter(d => d.startsWith('example-ambient-waypoint: AuthorizationPolicy'))).toEqual([]);
  });

  test('the whole example app is one set of charts whose objects do not collide', () => {
    // GIVEN the example sets WHEN the whole-app set is read
    const whole = examples.find(s => s.name === WHOLE_EXAMPLE_SET)!;
    // THEN it holds several charts' gateways and sidecars, and no object twice
    const keys = whole.manifests.map(m => `${m.apiVersion} ${m.kind} ${m.metadata.namespace ?? 'default'}/${m.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(whole.expectations.proxies.map(p => p.namespace)).size).toBeGreaterThan(4);
    expect(whole.expectations.proxies.length).toBeGreaterThan(8);
  });

  test('fails on a CIDR with host bits: the library refuses them, the stage fails on one in istiod\'s output', () => {
    // GIVEN a CIDR with host bits set WHEN the expectations would mask it THEN it is refused, as the library's policies refuse it
    expect(() => maskedCidr('10.0.0.1/8')).toThrow(/has host bits set after the prefix; did you mean "10\.0\.0\.0\/8"\?/);
    expect(maskedCidr('203.0.113.7')).toBe('203.0.113.7/32');
    const chart = Testing.chart();
    const workload = MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'w' }, namespace: 'web' });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedHops(1) });
    expect(() => SourceIpPolicy.allowFrom(workload, ['10.0.0.1/8'])).toThrow(/host bits set after the prefix/);
  });
});
