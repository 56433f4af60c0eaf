import { App, Chart, Testing } from 'cdk8s';
import { addAmbientCharts } from '../../examples/seed-scenarios/ambient';
import { addCdnCharts } from '../../examples/seed-scenarios/cdn';
import { addClientAddressCharts } from '../../examples/seed-scenarios/client-address';
import { addClientIpUsageCharts } from '../../examples/seed-scenarios/client-ip-usage';
import { addEastWestCharts } from '../../examples/seed-scenarios/east-west';
import { addGatewayApiCharts } from '../../examples/seed-scenarios/gateway-api';
import { addNorthSouthCharts } from '../../examples/seed-scenarios/north-south';
import { addPoliciesCharts } from '../../examples/seed-scenarios/policies';
import { addTcpCharts } from '../../examples/seed-scenarios/tcp';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, Explainer, FindingSeverity, SourceIpWarnings } from '../../src';
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
  ['cdn', addCdnCharts], ['ambient', addAmbientCharts], ['gateway-api', addGatewayApiCharts], ['client-ip-usage', addClientIpUsageCharts],
  ['client-address', addClientAddressCharts],
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

  test('explain raises no error on the example app: the one trace gives the constructs and explain the same findings', () => {
    const errors = charts.flatMap(([id, c]) => Explainer.fromChart(c).allFindings()
      .filter(f => f.severity === FindingSeverity.ERROR).map(f => `${id}: ${f.where}: ${f.message}`));
    expect(errors).toEqual([]);
  });

  test('a chosen externalTrafficPolicy Cluster and forgeable remoteIpBlocks are warnings on both sides, with one text', () => {
    // GIVEN the scenarios whose client is lost (externalTrafficPolicy CLUSTER, chosen) or forgeable from inside the mesh
    const byId = new Map(charts);
    const cases: Array<[string, RegExp]> = [
      ['north-south: ns-http-etp-cluster', /^client IP lost: externalTrafficPolicy Cluster/],
      ['policies: policy-sidecar-tproxy', /^forgeable from inside the mesh: remoteIpBlocks in /],
      ['ambient: ambient-waypoint', /^forgeable from inside the mesh: remoteIpBlocks in .* on waypoint /],
    ];
    for (const [id, message] of cases) {
      const chart = byId.get(id)!;
      // WHEN explain reads the output and the constructs report their warnings
      const explained = Explainer.fromChart(chart).allFindings().filter(f => message.test(f.message));
      const warned = SourceIpWarnings.messages(chart);
      // THEN both say it once as a WARNING, with the same text
      expect(explained.length).toBeGreaterThan(0);
      for (const f of explained) {
        expect(f.severity).toBe(FindingSeverity.WARNING);
        expect(warned).toContain(`${f.message}; ${f.fix}`);
      }
    }
  });
});
