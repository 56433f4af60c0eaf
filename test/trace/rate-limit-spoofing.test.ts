import { Chart, Duration, Testing } from 'cdk8s';
import {
  Explainer, InterceptionMode, LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolGateway, TproxyWorkload,
  TrustChain, TrustHop, WorkloadSource,
} from '../../src';
import { Topology } from '../../src/model/topology';
import { ADDRESSES } from '../../src/trace/context';
import { topologyTraces } from '../../src/trace/topology-trace';
import { PathTrace } from '../../src/trace/trace-types';
import { synthAndValidate } from '../harness';
import { assertRoundTrip } from '../property/round-trip';

/*
 * Spoofing: on every topology the model supports a per-client limit on (waypoints get none: istiod applies no
 * WAYPOINT-context EnvoyFilter patch, src/policy/rate-limit-per-client.ts), a client that forges X-Forwarded-For does not change the bucket key
 * the trace predicts (the trace runs each path once honestly and once with a forged header; `keyWithForgedXff` is the
 * second), and the key is the client. Both sides: the constructs' trace and explain's trace of the output.
 */

const HOST = 'app.example.com';
const perClient = { requests: 10, per: Duration.seconds(1) };

function gatewayTo(backendHost: string, backendPort: number, gw: PreservedIngressGateway | ProxyProtocolGateway) {
  gw.addHttpServer({ hosts: [HOST] });
  gw.addRoute({ host: HOST, backendHost, backendPort });
  return gw;
}

function httpbinTproxy(chart: Chart): TproxyWorkload {
  return new TproxyWorkload(chart, 'Httpbin', {
    interceptionMode: InterceptionMode.TPROXY,
    source: WorkloadSource.newDeployment({ image: 'example/httpbin', name: 'httpbin', namespace: 'default', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
  });
}

/** The north-south HTTP paths of the constructs' trace and of explain's, with their rate-limited hops. */
function limitedHops(chart: Chart): Array<{ side: string; path: string; hop: string; key: string; forged: string }> {
  const manifests = synthAndValidate(chart);
  const constructs = topologyTraces(Topology.of(chart)).flatMap(t => t.result.paths);
  const explain = Explainer.fromManifests(manifests).paths;
  const rows = (side: string, paths: PathTrace[]) => paths.filter(p => p.direction === 'north-south' && p.protocol === 'HTTP')
    .flatMap(p => p.hops.flatMap(h => (h.rateLimits ?? []).map(l => ({ side, path: p.title, hop: h.hop, key: l.key, forged: l.keyWithForgedXff }))));
  assertRoundTrip(chart, manifests);
  return [...rows('constructs', constructs), ...rows('explain', explain)];
}

const TOPOLOGIES: { [name: string]: () => Chart } = {
  'gateway, load balancer with externalTrafficPolicy Local': () => {
    const chart = Testing.chart();
    httpbinTproxy(chart);
    gatewayTo('httpbin.default.svc.cluster.local', 8000, new PreservedIngressGateway(chart, 'Gw')).rateLimitPerClient(perClient);
    return chart;
  },
  'gateway, load balancer that keeps the source itself (AWS NLB ip targets)': () => {
    const chart = Testing.chart();
    httpbinTproxy(chart);
    gatewayTo('httpbin.default.svc.cluster.local', 8000, new PreservedIngressGateway(chart, 'Gw', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP }))
      .rateLimitPerClient(perClient);
    return chart;
  },
  'gateway, PROXY protocol from the load balancer': () => {
    const chart = Testing.chart();
    httpbinTproxy(chart);
    gatewayTo('httpbin.default.svc.cluster.local', 8000, new ProxyProtocolGateway(chart, 'Gw', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_INSTANCE }))
      .rateLimitPerClient(perClient);
    return chart;
  },
  'gateway, behind a CDN and an L7 load balancer with trusted hops': () => {
    const chart = Testing.chart();
    httpbinTproxy(chart);
    const chain = TrustChain.of(TrustHop.cdn({ name: 'cdn', cidrs: ['198.51.100.0/24'] }), TrustHop.l7LoadBalancer({ name: 'alb', cidrs: ['192.0.2.128/25'] }));
    gatewayTo('httpbin.default.svc.cluster.local', 8000, new PreservedIngressGateway(chart, 'Gw', { trustChain: chain })).rateLimitPerClient(perClient);
    return chart;
  },
  'sidecar TPROXY behind a gateway': () => {
    const chart = Testing.chart();
    httpbinTproxy(chart).rateLimitPerClient(perClient);
    gatewayTo('httpbin.default.svc.cluster.local', 8000, new PreservedIngressGateway(chart, 'Gw'));
    return chart;
  },
};

describe('a forged X-Forwarded-For does not change the per-client bucket', () => {
  test.each(Object.keys(TOPOLOGIES))('%s', name => {
    // GIVEN the topology with a per-client limit on the hop that resolves the client
    const chart = TOPOLOGIES[name]();
    // WHEN both traces walk every north-south HTTP path, honestly and with a forged X-Forwarded-For
    const hops = limitedHops(chart);
    // THEN the limit is on some hop of each side (the test is not vacuous)
    expect(new Set(hops.map(h => h.side))).toEqual(new Set(['constructs', 'explain']));
    // and on every hop the bucket key is the client, and the forged header leaves it unchanged
    for (const h of hops) {
      expect({ ...h, key: h.key, forged: h.forged }).toEqual({ ...h, key: ADDRESSES.client, forged: ADDRESSES.client });
    }
  });

  test('in-mesh callers of a sidecar pick their bucket: the east-west path shows the forged key and a warning', () => {
    // GIVEN a TPROXY workload with a per-client limit and no gateway
    const chart = Testing.chart();
    httpbinTproxy(chart).rateLimitPerClient(perClient);
    const paths = topologyTraces(Topology.of(chart)).flatMap(t => t.result.paths).filter(p => p.direction === 'east-west');
    // WHEN a pod calls it honestly and with a forged X-Forwarded-For
    const limit = paths.flatMap(p => p.hops.flatMap(h => h.rateLimits ?? []))[0];
    // THEN the honest key is the calling pod and the forged one is the caller's own entry
    expect(limit.key).toBe(ADDRESSES.meshClientPod);
    expect(ADDRESSES.forged).toContain(limit.keyWithForgedXff);
    expect(paths.flatMap(p => p.findings).map(f => `${f.severity} ${f.message}`).join('\n')).toMatch(/warning rate limit default\/httpbin-rate-limit-per-client is forgeable from inside the mesh/);
  });
});
