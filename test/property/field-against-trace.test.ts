import { Chart, Testing } from 'cdk8s';
import { assertFieldsAgainstTrace, assertPolicyFields } from './field-against-trace';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, ExternalTrafficPolicy, LoadBalancerProfile, MeshWorkload, PreservedIngressGateway,
  SourceIpPolicy, Waypoint, XffSidecarFilter, XffTrust,
} from '../../src';
import { PolicyModel } from '../../src/model/model';
import { Topology } from '../../src/model/topology';
import { trace } from '../../src/trace/app-trace';
import { topologyTraces } from '../../src/trace/topology-trace';

/*
 * The property "each policy's field against the trace" (field-against-trace.ts) is a real check: on apps whose
 * policies chose their field by topology it passes, and with one policy's field swapped in the trace model (the
 * trace run again) it fails, naming the policy and the client the other field would have matched.
 */

/** A gateway behind one L7 proxy (numTrustedProxies 1): remote.ip there is the client, the packet source the proxy. */
function gatewayBehindProxy(chart: Chart): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', {
    numTrustedProxies: 1, externalTrafficPolicy: ExternalTrafficPolicy.LOCAL, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
  });
  gw.addHttpServer();
  return gw;
}

/** Checks the chart's policies as chosen, then with `policy`'s field swapped; returns the error of the swapped run. */
function swapped(chart: Chart, policy: SourceIpPolicy): string {
  const [cluster] = topologyTraces(Topology.of(chart));
  const models = cluster.model.policies;
  // As chosen: the property holds.
  assertFieldsAgainstTrace(cluster.result, models);
  const key = (p: PolicyModel) => `${p.namespace}/${p.name}`;
  const other = policy.field === ClientIpField.IP_BLOCKS ? ClientIpField.REMOTE_IP_BLOCKS : ClientIpField.IP_BLOCKS;
  const swappedPolicies = models.map(p => (key(p) === `${policy.namespace}/${policy.name}` ? { ...p, field: other } : p));
  try {
    assertFieldsAgainstTrace(trace({ ...cluster.model, policies: swappedPolicies }), swappedPolicies);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('each policy\'s field against the trace', () => {
  test('a gateway behind an L7 proxy: remoteIpBlocks passes, ipBlocks (the proxy\'s address) fails', () => {
    // GIVEN a policy on a gateway whose client is in X-Forwarded-For
    const chart = Testing.chart();
    const policy = gatewayBehindProxy(chart).allowFrom(['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    // WHEN the field is swapped to ipBlocks
    const error = swapped(chart, policy);
    // THEN the property fails, naming the policy and the client remoteIpBlocks would have matched
    expect(error).toMatch(new RegExp(`policy ${policy.namespace}/${policy.name} \\(ipBlocks\\) at hop "gateway .*the other field matches the client 203\\.0\\.113\\.10`));
  });

  test('a sidecar that trusts the gateway\'s hops: remoteIpBlocks passes, ipBlocks (the gateway pod) fails', () => {
    // GIVEN a workload behind the gateway whose sidecar resolves the client through the gateway's hops
    const chart = Testing.chart();
    const gw = gatewayBehindProxy(chart);
    gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
    const workload = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gw) });
    const policy = workload.allowFrom(['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    // WHEN the field is swapped to ipBlocks
    const error = swapped(chart, policy);
    // THEN the property fails at the sidecar hop
    expect(error).toMatch(/\(ipBlocks\) at hop "sidecar .*matches 10\.244\.0\.5, but the other field matches the client 203\.0\.113\.10/);
  });

  test('a waypoint that ingress traffic passes: remoteIpBlocks passes, ipBlocks (the gateway pod) fails', () => {
    // GIVEN an ambient workload whose waypoint ingress traffic uses, behind a gateway that sees the client
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gw.addHttpServer();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'apps' });
    new AmbientNamespace(chart, 'Apps', { name: 'apps', waypoint, ingressUseWaypoint: true });
    AmbientWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    const policy = waypoint.allowFrom(['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    // WHEN the field is swapped to ipBlocks
    const error = swapped(chart, policy);
    // THEN the property fails at the waypoint hop
    expect(error).toMatch(/\(ipBlocks\) at hop "waypoint .*the other field matches the client 203\.0\.113\.10/);
  });

  test('a gateway that sees the client as its peer: ipBlocks passes, and so does remoteIpBlocks (both match the client)', () => {
    // GIVEN a gateway with externalTrafficPolicy Local and no hops in front
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gw.addHttpServer();
    const policy = gw.allowFrom(['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.IP_BLOCKS);
    // WHEN / THEN the property holds on the app as built, and a swap is no wrong choice here
    expect(() => assertPolicyFields(chart)).not.toThrow();
    expect(swapped(chart, policy)).toBe('no error');
  });

  test('a sidecar without an XffSidecarFilter keeps ipBlocks, although its remote.ip (the rightmost X-Forwarded-For entry) is the client', () => {
    // GIVEN a workload behind a gateway that sees the client as its peer and appends it to X-Forwarded-For
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gw.addHttpServer();
    gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
    const workload = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    const policy = workload.allowFrom(['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.IP_BLOCKS);
    // WHEN / THEN the property holds: that entry is written by whoever calls the sidecar (istio/istio#30166)
    expect(() => assertPolicyFields(chart)).not.toThrow();
    const [cluster] = topologyTraces(Topology.of(chart));
    const sidecar = cluster.result.paths.filter(p => p.direction === 'north-south').flatMap(p => p.hops).find(h => h.hop.startsWith('sidecar '))!;
    expect(sidecar.clientAddress).toBe('203.0.113.10');
    expect(sidecar.policies[0].address).toBe('10.244.0.5');
  });

  test('fails when remoteIpBlocks on a sidecar misses the client the gateway resolved and the trace does not say so', () => {
    // GIVEN a sidecar that trusts fewer hops than the gateway (1 of 2): remote.ip there is the first proxy, not the client
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 2, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gw.addHttpServer();
    gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
    const workload = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedHops(1) });
    workload.allowFrom(['203.0.113.0/24']);
    const [cluster] = topologyTraces(Topology.of(chart));
    // WHEN / THEN the trace reports it (a warning naming the policy), so the property holds
    expect(() => assertFieldsAgainstTrace(cluster.result, cluster.model.policies)).not.toThrow();
    // and without the trace's findings it fails
    const silent = { ...cluster.result, paths: cluster.result.paths.map(p => ({ ...p, findings: [] })) };
    expect(() => assertFieldsAgainstTrace(silent, cluster.model.policies)).toThrow(/the gateway resolved the client 203\.0\.113\.10, .* and the trace reports nothing about it/);
  });

  test('fails when the trace matched another address than the field reads at the hop', () => {
    // GIVEN the trace of a gateway policy, with its match's address altered
    const chart = Testing.chart();
    gatewayBehindProxy(chart).allowFrom(['203.0.113.0/24']);
    const [cluster] = topologyTraces(Topology.of(chart));
    const paths = cluster.result.paths.map(p => ({
      ...p, hops: p.hops.map(h => ({ ...h, policies: h.policies.map(m => ({ ...m, address: '198.51.100.99' })) })),
    }));
    // WHEN / THEN
    expect(() => assertFieldsAgainstTrace({ ...cluster.result, paths }, cluster.model.policies)).toThrow(/matched 198\.51\.100\.99, but the hop reads 203\.0\.113\.10/);
  });
});
