import { App, Chart, Testing } from 'cdk8s';
import { addAmbientCharts } from '../../examples/seed-scenarios/ambient';
import { addCdnCharts } from '../../examples/seed-scenarios/cdn';
import { addEastWestCharts } from '../../examples/seed-scenarios/east-west';
import { addGatewayApiCharts } from '../../examples/seed-scenarios/gateway-api';
import { addNorthSouthCharts } from '../../examples/seed-scenarios/north-south';
import { addPoliciesCharts } from '../../examples/seed-scenarios/policies';
import { addTcpCharts } from '../../examples/seed-scenarios/tcp';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, Explainer, FindingSeverity } from '../../src';
import { synthAndValidate } from '../harness';
import { assertRoundTrip, roundTripCounter } from '../property/round-trip';

/*
 * The example app (every seed scenario) round-trips: explain reads back, chart by chart, the topology the
 * constructs built, and raises no error the constructs did not raise as a warning. Each scenario group gets its
 * own app: the groups reuse object names (they are alternatives, not one cluster), and the constructs model an
 * app as one cluster.
 */

const GROUPS: Array<[string, (app: App) => void]> = [
  ['north-south', addNorthSouthCharts], ['tcp', addTcpCharts], ['east-west', addEastWestCharts], ['policies', addPoliciesCharts],
  ['cdn', addCdnCharts], ['ambient', addAmbientCharts], ['gateway-api', addGatewayApiCharts],
];

const charts: Array<[string, Chart]> = GROUPS.flatMap(([group, add]) => {
  const app = Testing.app();
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  add(app);
  return app.charts.map(c => [`${group}: ${c.node.id}`, c] as [string, Chart]);
});

describe('example app round trip', () => {
  test.each(charts)('%s: parse(synth) is the topology the constructs built', (_id, chart) => {
    // WHEN
    const manifests = synthAndValidate(chart);
    // THEN
    const before = roundTripCounter.gateways + roundTripCounter.workloads + roundTripCounter.policies;
    assertRoundTrip(chart, manifests);
    expect(roundTripCounter.gateways + roundTripCounter.workloads + roundTripCounter.policies).toBeGreaterThan(before);
  });

  test('explain errors on the example app are only where the scenario shows a loss the constructs warn about', () => {
    const errors = charts.flatMap(([id, c]) => Explainer.fromChart(c).allFindings()
      .filter(f => f.severity === FindingSeverity.ERROR).map(f => `${id}: ${f.where}`));
    expect([...new Set(errors)]).toEqual([
      'north-south: ns-http-etp-cluster: gateway istio-ingress/ingressgateway',
      'policies: policy-sidecar-tproxy: workload default/echo-server',
      // In-mesh callers can forge what the sidecar trusts (X-Forwarded-For from the trusted ranges, or the CDN's
      // header): XffSidecarFilter warns about both, and explain shows it as an error on remoteIpBlocks there.
      'cdn: ns-cdn-trusted-cidrs: workload ns-cdn-trusted-cidrs/httpbin',
      'cdn: ns-cdn-client-header: workload ns-cdn-client-header/httpbin',
      // The same on a waypoint: its remote.ip is the rightmost X-Forwarded-For entry, which an in-mesh caller writes;
      // the waypoint's policies and the AmbientWorkload warn about it.
      'ambient: ambient-waypoint: workload web/httpbin',
    ]);
  });
});
