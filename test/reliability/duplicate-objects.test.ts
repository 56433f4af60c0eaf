import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, InterceptionMode, MeshWorkload, PreservedIngressGateway, SourceIpWarnings, TproxyWorkload, WorkloadSource,
} from '../../src';

/*
 * Two objects with the same API group, kind, namespace and name in one app: the one applied later silently
 * replaces the other. Synthesis refuses two of one chart and any the library writes; the user's own objects in
 * different charts (one chart per environment) are a warning only. Every message names
 * CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY.
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
    expect(() => chart.toJson()).toThrow(/object security.istio.io AuthorizationPolicy "apps\/allow-office" is emitted twice in chart "test", by test\/.+ and test\/.+: the one applied later silently replaces the other; give one of them another name or namespace.*CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY does not apply/);
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
    expect(message).toMatch(/object networking.istio.io Gateway "istio-ingress\/edge" is emitted twice, by One\/Gateway\/.+ and Two\/Gateway\/.+the library writes at least one of them.*CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY \("cdk8s-istio-source-ip:chartsAreAlternatives"\)/);
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

  test('a multi-environment app (one chart per environment, each with the user\'s own httpbin Service and Deployment) synthesises, with a warning naming the context key', () => {
    // GIVEN one chart per environment, each applied to its own cluster, with the user's httpbin (cdk8s-plus in one,
    // plain ApiObjects in the other) and the library's constructs on it
    const app = Testing.app();
    const envs = ['staging', 'production'];
    envs.forEach((env, i) => {
      const chart = new Chart(app, env);
      let workload;
      if (i === 0) {
        const dep = new kplus.Deployment(chart, 'Httpbin', {
          metadata: { name: 'httpbin', namespace: 'default' },
          containers: [{ image: 'docker.io/citizenstig/httpbin', portNumber: 8000, securityContext: { ensureNonRoot: false } }],
          securityContext: { ensureNonRoot: false },
        });
        dep.exposeViaService({ name: 'httpbin', ports: [{ port: 8000 }] });
        workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(dep), interceptionMode: InterceptionMode.REDIRECT });
      } else {
        new ApiObject(chart, 'HttpbinService', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', namespace: 'default' }, spec: { selector: { app: 'httpbin' }, ports: [{ port: 8000 }] } });
        const dep = new ApiObject(chart, 'HttpbinDeployment', {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'httpbin', namespace: 'default' },
          spec: { selector: { matchLabels: { app: 'httpbin' } }, template: { metadata: { labels: { app: 'httpbin' } }, spec: { containers: [{ name: 'httpbin', image: 'docker.io/citizenstig/httpbin' }] } } },
        });
        workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(dep), interceptionMode: InterceptionMode.REDIRECT });
      }
      workload.allowFrom(['203.0.113.0/24'], { name: `allow-office-${env}` });
      gateway(chart, `edge-${env}`);
    });
    // WHEN
    const yaml = app.synthYaml();
    // THEN both environments are written, and the user's duplicates are a warning that names the context key
    expect(yaml).toContain('allow-office-staging');
    expect(yaml).toContain('allow-office-production');
    const warnings = SourceIpWarnings.messages(app).filter(m => m.includes('is emitted by'));
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/^object Service "default\/httpbin" is emitted by staging\/.+ \(chart "staging"\) and production\/HttpbinService \(chart "production"\): .*CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY/),
      expect.stringMatching(/^object apps Deployment "default\/httpbin" is emitted by staging\/.+ and production\/HttpbinDeployment/),
    ]));
    // And with the charts declared alternatives, not even the warning
    const declared = Testing.app();
    declared.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
    for (const env of envs) {
      const chart = new Chart(declared, env);
      new ApiObject(chart, 'HttpbinService', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', namespace: 'default' } });
      gateway(chart);
    }
    declared.synthYaml();
    expect(SourceIpWarnings.messages(declared).filter(m => m.includes('is emitted'))).toEqual([]);
  });

  test('fails for the user\'s object and the library\'s in different charts', () => {
    // GIVEN the gateway's Service in one chart and the user's Service of the same name in another
    const app = Testing.app();
    gateway(new Chart(app, 'One'));
    new ApiObject(new Chart(app, 'Two'), 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'istio-ingress' } });
    // THEN
    expect(() => app.synthYaml()).toThrow(/object Service "istio-ingress\/edge" is emitted twice, by One\/Gateway\/.+ \(chart "One"\) and Two\/Mine \(chart "Two"\), and the library writes at least one of them/);
  });
});
