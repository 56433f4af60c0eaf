import { Testing } from 'cdk8s';
import { addPoliciesCharts } from '../../examples/seed-scenarios/policies';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

describe('policies seed-scenarios example app', () => {
  // GIVEN the example app's policy charts
  const app = Testing.app();
  // The scenario charts are alternatives, applied one at a time, and reuse names.
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  addPoliciesCharts(app);
  const byId = new Map(app.charts.map(c => [c.node.id, c]));
  const sources = (id: string) => manifestsOfKind(synthAndValidate(byId.get(id)!), 'AuthorizationPolicy')
    .map(p => ({ action: p.spec.action, source: p.spec.rules[0].from[0].source }));

  test('every chart validates', () => {
    expect([...byId.keys()]).toEqual([
      'policy-block-source-ip', 'policy-ultimate-client-ip', 'policy-office-allow-list', 'policy-sidecar-tproxy', 'policy-tcp-proxy-protocol',
    ]);
    for (const chart of app.charts) expect(synthAndValidate(chart).length).toBeGreaterThan(0);
  });

  test('the two Tetrate policies match the article', () => {
    // WHEN / THEN
    for (const [id, source] of [['policy-block-source-ip', { remoteIpBlocks: ['2.2.2.0/24'] }], ['policy-ultimate-client-ip', { ipBlocks: ['123.120.234.0/24'] }]] as const) {
      const policy = findManifest(synthAndValidate(byId.get(id)!), 'AuthorizationPolicy', 'ingress-policy');
      expect(policy.metadata.namespace).toBe('istio-system');
      expect(policy.spec).toEqual({ selector: { matchLabels: { app: 'istio-ingressgateway' } }, action: 'DENY', rules: [{ from: [{ source }] }] });
    }
  });

  test('each topology gets its field', () => {
    expect(sources('policy-office-allow-list')).toEqual([
      { action: 'ALLOW', source: { ipBlocks: ['203.0.113.0/24', '2001:db8::/32'] } },
      { action: 'DENY', source: { ipBlocks: ['203.0.113.66/32'] } },
    ]);
    expect(sources('policy-sidecar-tproxy')).toEqual([
      { action: 'ALLOW', source: { ipBlocks: ['10.32.0.0/14'] } },
      { action: 'DENY', source: { remoteIpBlocks: ['2.2.2.0/24'] } },
    ]);
    expect(sources('policy-tcp-proxy-protocol')).toEqual([{ action: 'ALLOW', source: { remoteIpBlocks: ['198.51.100.0/24'] } }]);
  });

  test('snapshot', () => {
    expect(app.charts.map(c => manifestsOfKind(synthAndValidate(c), 'AuthorizationPolicy'))).toMatchSnapshot();
  });
});
