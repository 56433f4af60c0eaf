import { Testing } from 'cdk8s';
import { addNorthSouthCharts } from '../../examples/seed-scenarios/north-south';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from '../../src';
import { findManifest, synthAndValidate } from '../harness';

describe('north-south seed-scenarios example app', () => {
  // GIVEN the example app's north-south charts
  const app = Testing.app();
  // The scenario charts are alternatives, applied one at a time, and reuse names.
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  addNorthSouthCharts(app);
  const byId = new Map(app.charts.map(c => [c.node.id, c]));

  test('every chart validates', () => {
    // WHEN / THEN
    expect([...byId.keys()]).toEqual([
      'ns-http-etp-cluster', 'ns-http-etp-local', 'ns-https-etp-local', 'ns-http-one-trusted-proxy',
      'ns-http-two-trusted-proxies', 'ns-http-aws-nlb-ip', 'ns-attach-existing',
    ]);
    for (const chart of app.charts) expect(synthAndValidate(chart).length).toBeGreaterThan(0);
  });

  test('the scenarios differ where the seeds say they do', () => {
    const etp = (id: string) => findManifest(synthAndValidate(byId.get(id)!), 'Service').spec.externalTrafficPolicy;
    const trusted = (id: string) => JSON.parse(findManifest(synthAndValidate(byId.get(id)!), 'Deployment')
      .spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology.numTrustedProxies;
    expect(etp('ns-http-etp-cluster')).toBe('Cluster');
    expect(etp('ns-http-etp-local')).toBe('Local');
    expect(etp('ns-attach-existing')).toBe('Local');
    expect(trusted('ns-http-one-trusted-proxy')).toBe(1);
    expect(trusted('ns-http-two-trusted-proxies')).toBe(2);
    expect(findManifest(synthAndValidate(byId.get('ns-https-etp-local')!), 'Gateway').spec.servers[0].tls.credentialName).toBe('httpbin-credential');
  });
});
