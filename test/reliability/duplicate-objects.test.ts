import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { MeshWorkload, PreservedIngressGateway } from '../../src';

/*
 * Two objects with the same API group, kind, namespace and name in one app: the one applied later silently
 * replaces the other, so synthesis refuses them, whichever charts or constructs emit them.
 */

function gateway(chart: Chart, name = 'edge'): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', { name, namespace: 'istio-ingress' });
  gw.addHttpServer({ hosts: ['app.example.com'] });
  return gw;
}

describe('duplicate objects', () => {
  test('fails for two SourceIpPolicy with the same name on one workload', () => {
    // GIVEN
    const chart = Testing.chart();
    const w = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    w.allowFrom(['203.0.113.0/24'], { name: 'allow-office' });
    w.allowFrom(['198.51.100.0/24'], { name: 'allow-office' });
    // WHEN / THEN
    expect(() => chart.toJson()).toThrow(/object security.istio.io AuthorizationPolicy "apps\/allow-office" is emitted twice, by test\/.+ and test\/.+: the one applied later silently replaces the other; give one of them another name or namespace/);
  });

  test('fails for two gateways with the same name in two charts', () => {
    // GIVEN
    const app = Testing.app();
    gateway(new Chart(app, 'One'));
    gateway(new Chart(app, 'Two'));
    // WHEN
    let message = '';
    try {
      app.synthYaml();
    } catch (e) {
      message = (e as Error).message;
    }
    // THEN every object of the second gateway is named, with both construct paths
    expect(message).toMatch(/object networking.istio.io Gateway "istio-ingress\/edge" is emitted twice, by One\/Gateway\/.+ and Two\/Gateway\/.+/);
    expect(message).toMatch(/object apps Deployment "istio-ingress\/edge" is emitted twice/);
    expect(message).toMatch(/object Service "istio-ingress\/edge" is emitted twice/);
  });

  test('fails for a user object that one of ours would replace', () => {
    // GIVEN a hand-written Service with the gateway's name
    const chart = Testing.chart();
    gateway(chart);
    new ApiObject(chart, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'istio-ingress' } });
    // THEN
    expect(() => chart.toJson()).toThrow(/object Service "istio-ingress\/edge" is emitted twice/);
  });

  test('the same name in another namespace, kind or API group is fine', () => {
    // GIVEN
    const app = new App();
    const chart = new Chart(app, 'C');
    gateway(chart);
    const other = new PreservedIngressGateway(chart, 'Other', { name: 'edge', namespace: 'istio-ingress-2' });
    other.addHttpServer({ hosts: ['app.example.com'] });
    new ApiObject(chart, 'Cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edge', namespace: 'istio-ingress' } });
    // WHEN
    const manifests = chart.toJson();
    // THEN
    expect(manifests.filter(m => m.kind === 'Gateway')).toHaveLength(2);
  });
});
