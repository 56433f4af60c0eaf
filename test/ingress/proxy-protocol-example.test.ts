import { App, Chart } from 'cdk8s';
import { addTcpCharts } from '../../examples/seed-scenarios/tcp';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from '../../src';
import { synthAndValidate } from '../harness';

describe('examples/seed-scenarios/tcp.ts', () => {
  // GIVEN the TCP scenario charts of the example app
  const app = new App({ outdir: '/tmp' });
  // The scenario charts are alternatives, applied one at a time, and reuse names.
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  addTcpCharts(app);
  const charts = app.node.children.filter((c): c is Chart => c instanceof Chart);

  test('has one chart per scenario', () => {
    expect(charts.map(c => c.node.id)).toEqual([
      'tcp-proxy-protocol-strict', 'tcp-proxy-protocol-to-backend', 'tcp-proxy-protocol-optional', 'tls-passthrough-proxy-protocol-per-port',
    ]);
  });

  test.each(charts.map(c => [c.node.id, c] as const))('%s synthesises and validates', (_id, chart) => {
    // WHEN / THEN
    expect(synthAndValidate(chart).length).toBeGreaterThan(0);
  });
});
