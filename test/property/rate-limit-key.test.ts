import { Chart, Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { runsFor } from './arbitraries';
import { buildChain, chainSpec, ChainSpec } from './chain-arbitraries';
import { assertRoundTrip } from './round-trip';
import {
  Explainer, ExternalTrafficPolicy, GatewayFlavour, InterceptionMode, IstioVersion, LoadBalancerProfile, PreservedIngressGateway,
  ProxyProtocolGateway,
  SourceIpWarnings, TproxyWorkload, WorkloadSource,
} from '../../src';
import { Topology } from '../../src/model/topology';
import { ADDRESSES } from '../../src/trace/context';
import { topologyTraces } from '../../src/trace/topology-trace';
import { PathTrace } from '../../src/trace/trace-types';
import { validateManifest } from '../harness';

/*
 * Property: for every generated gateway (both kinds, both flavours, every load balancer, any trust chain and traffic
 * policy, every release) with a per-client limit on the gateway, on the workload behind it, or both, that the library
 * accepts, the bucket key at the gateway is the client and a forged X-Forwarded-For does not move it; on the sidecar
 * it is the client too, or the workload carries the warning that says it is not. Both traces (the constructs' and
 * explain's) agree, and the round trip holds.
 */

interface Case {
  readonly proxyProtocol: boolean;
  readonly flavour: GatewayFlavour;
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  readonly profile: LoadBalancerProfile;
  readonly chain?: ChainSpec;
  readonly istioVersion: IstioVersion;
  readonly onGateway: boolean;
  readonly onSidecar: boolean;
  readonly requests: number;
  readonly perMillis: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  proxyProtocol: fc.boolean(),
  flavour: fc.constantFrom(GatewayFlavour.ISTIO, GatewayFlavour.GATEWAY_API),
  externalTrafficPolicy: fc.constantFrom(ExternalTrafficPolicy.LOCAL, ExternalTrafficPolicy.LOCAL, ExternalTrafficPolicy.CLUSTER),
  profile: fc.constantFrom(...LoadBalancerProfile.all()),
  chain: fc.option(chainSpec, { nil: undefined, freq: 2 }),
  // Mostly releases with per-value buckets; the older ones must be refused, never accepted without them.
  istioVersion: fc.oneof(
    { arbitrary: fc.constantFrom(...IstioVersion.all().filter(v => v.supportsPerClientRateLimit)), weight: 4 },
    { arbitrary: fc.constantFrom(...IstioVersion.all()), weight: 1 },
  ),
  onGateway: fc.boolean(),
  onSidecar: fc.boolean(),
  requests: fc.integer({ min: 1, max: 10_000 }),
  perMillis: fc.integer({ min: 50, max: 3_600_000 }),
}).filter(c => c.onGateway || c.onSidecar);

const counts = { cases: 0, accepted: 0, gatewayHops: 0, sidecarHops: 0 };

/** The chart of a case, or undefined where a construct refuses its props. */
function build(c: Case): Chart | undefined {
  const chart = Testing.chart();
  const limit = { requests: c.requests, per: Duration.millis(c.perMillis) };
  try {
    const workload = new TproxyWorkload(chart, 'App', {
      interceptionMode: InterceptionMode.TPROXY,
      istioVersion: c.istioVersion,
      source: WorkloadSource.newDeployment({ image: 'example/app', name: 'app', namespace: 'default', port: 8000, servicePort: 8000, labels: { app: 'app' } }),
    });
    const props = {
      flavour: c.flavour,
      externalTrafficPolicy: c.externalTrafficPolicy,
      loadBalancerProfile: c.profile,
      istioVersion: c.istioVersion,
      ...(c.chain ? { trustChain: buildChain(c.chain) } : {}),
    };
    const gateway = c.proxyProtocol ? new ProxyProtocolGateway(chart, 'Gateway', props) : new PreservedIngressGateway(chart, 'Gateway', props);
    gateway.addHttpServer({ hosts: ['app.example.com'] });
    gateway.addRoute({ host: 'app.example.com', backendHost: 'app.default.svc.cluster.local', backendPort: 8000 });
    if (c.onGateway) gateway.rateLimitPerClient(limit);
    if (c.onSidecar) workload.rateLimitPerClient(limit);
  } catch {
    return undefined;
  }
  return chart;
}

function northSouthLimits(paths: PathTrace[]) {
  return paths.filter(p => p.direction === 'north-south' && p.protocol === 'HTTP')
    .flatMap(p => p.hops.flatMap(h => (h.rateLimits ?? []).map(l => ({ hop: h.hop, ...l }))));
}

describe('per-client rate limits', () => {
  test('on every accepted case the key at the gateway is the client, and a forged X-Forwarded-For does not move any key', () => {
    fc.assert(fc.property(caseArb, c => {
      counts.cases++;
      const chart = build(c);
      if (chart === undefined) return;
      let manifests: any[];
      try {
        manifests = Testing.synth(chart);
      } catch {
        return;
      }
      counts.accepted++;
      expect(c.istioVersion.supportsPerClientRateLimit).toBe(true);
      expect(manifests.flatMap(m => validateManifest(m, { istioVersion: c.istioVersion }))).toEqual([]);
      const warnings = SourceIpWarnings.messages(chart).join('\n');
      const sides = {
        constructs: northSouthLimits(topologyTraces(Topology.of(chart)).flatMap(t => t.result.paths)),
        explain: northSouthLimits(Explainer.fromManifests(manifests).paths),
      };
      expect(sides.explain).toEqual(sides.constructs);
      for (const l of sides.constructs) {
        expect({ hop: l.hop, forged: l.keyWithForgedXff }).toEqual({ hop: l.hop, forged: l.key });
        if (l.hop.startsWith('gateway')) {
          counts.gatewayHops++;
          expect({ hop: l.hop, key: l.key }).toEqual({ hop: l.hop, key: ADDRESSES.client });
        } else {
          counts.sidecarHops++;
          if (l.key !== ADDRESSES.client) expect(warnings).toContain(`rate limit ${l.rateLimit} keys on ${l.key}`);
        }
      }
      assertRoundTrip(chart, manifests);
    }), { numRuns: runsFor(0.3) });
    // The property looked at limits on both hops of accepted cases (it is not vacuous).
    expect(counts.gatewayHops).toBeGreaterThan(0);
    expect(counts.sidecarHops).toBeGreaterThan(0);
    // eslint-disable-next-line no-console
    console.log(`rate-limit key property: ${counts.cases} cases, ${counts.accepted} accepted, ${counts.gatewayHops} gateway and ${counts.sidecarHops} sidecar hops with a limit`);
  });
});
