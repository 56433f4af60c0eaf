import { Testing } from 'cdk8s';
import { addEastWestCharts } from '../../examples/seed-scenarios/east-west';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from '../../src';
import { findManifest, synthAndValidate } from '../harness';

const ANNOTATION = 'sidecar.istio.io/interceptionMode';

describe('east-west seed-scenarios example app', () => {
  // GIVEN the example app's east-west charts
  const app = Testing.app();
  // The scenario charts are alternatives, applied one at a time, and reuse names.
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  addEastWestCharts(app);
  const byId = new Map(app.charts.map(c => [c.node.id, c]));
  const manifestsOf = (id: string) => synthAndValidate(byId.get(id)!);

  test('every chart validates', () => {
    // WHEN / THEN
    expect([...byId.keys()]).toEqual([
      'ew-httpbin-redirect', 'ew-httpbin-tproxy', 'ew-echo-server-tproxy', 'ew-echo-server-redirect',
      'ew-xff-httpbin-use-remote-address', 'ew-xff-httpbin-gateway-hops', 'ew-xff-httpbin-trusted-cidrs',
    ]);
    for (const chart of app.charts) expect(synthAndValidate(chart).length).toBeGreaterThan(0);
  });

  test('the scenarios differ where the seeds say they do', () => {
    const mode = (id: string) => findManifest(manifestsOf(id), 'Deployment').spec.template.metadata.annotations[ANNOTATION];
    const hcm = (id: string) => findManifest(manifestsOf(id), 'EnvoyFilter').spec.configPatches[0].patch.value.typed_config;
    expect(mode('ew-httpbin-redirect')).toBe('REDIRECT');
    expect(mode('ew-httpbin-tproxy')).toBe('TPROXY');
    expect(mode('ew-echo-server-tproxy')).toBe('TPROXY');
    expect(mode('ew-echo-server-redirect')).toBe('REDIRECT');
    expect(findManifest(manifestsOf('ew-echo-server-tproxy'), 'Service', 'clusterip').spec.ports).toEqual([{ port: 80, targetPort: 8080 }]);
    expect(hcm('ew-xff-httpbin-use-remote-address').use_remote_address).toBe(true);
    expect(hcm('ew-xff-httpbin-gateway-hops').xff_num_trusted_hops).toBe(2);
    expect(hcm('ew-xff-httpbin-trusted-cidrs').original_ip_detection_extensions[0].typed_config.xff_trusted_cidrs.cidrs)
      .toEqual([{ address_prefix: '172.17.0.0', prefix_len: 16 }]);
  });
});
