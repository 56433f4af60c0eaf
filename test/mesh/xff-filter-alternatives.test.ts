import { App, Chart, Testing } from 'cdk8s';
import {
  CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolBackend, SidecarXffMode, TproxyWorkload,
  WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { assertRoundTrip } from '../property/round-trip';

/*
 * Charts declared alternatives (CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY) are applied each to a cluster of its own: an
 * XffSidecarFilter or a ProxyProtocolBackend in one chart does not change the sidecars of a workload of the same
 * name in another (found by the property suite: the workload model read the other chart's filter, so the
 * constructs and `explain` disagreed about the workload's XFF mode).
 */

function alternativesApp(): App {
  const app = Testing.app();
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  return app;
}

function cluster(app: App, id: string): { chart: Chart; workload: TproxyWorkload } {
  const chart = new Chart(app, id);
  const gw = new PreservedIngressGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
  gw.addHttpServer();
  gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8080 });
  const workload = new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.newDeployment({ image: 'httpbin', port: 8080, name: 'httpbin', namespace: 'apps' }) });
  return { chart, workload };
}

describe('alternative charts', () => {
  test('an XffSidecarFilter in one chart does not reach the same workload in another chart', () => {
    // GIVEN two alternatives with the same workload, a filter in the second only
    const app = alternativesApp();
    const first = cluster(app, 'first');
    const second = cluster(app, 'second');
    new XffSidecarFilter(second.chart, 'Xff', { workload: second.workload, trust: XffTrust.useRemoteAddress() });
    // WHEN / THEN each chart's workload has its own chart's settings, and each chart round-trips through explain
    expect(first.workload._workloadModel()?.xffMode).toBe(SidecarXffMode.DEFAULT);
    expect(second.workload._workloadModel()?.xffMode).toBe(SidecarXffMode.USE_REMOTE_ADDRESS);
    for (const { chart } of [first, second]) assertRoundTrip(chart, chart.toJson());
  });

  test('filters on the same workload in two alternatives do not overlap', () => {
    // GIVEN the same filter on the same workload in each of two alternatives
    const app = alternativesApp();
    const charts = [cluster(app, 'first'), cluster(app, 'second')];
    for (const c of charts) new XffSidecarFilter(c.chart, 'Xff', { workload: c.workload, trust: XffTrust.useRemoteAddress() });
    // WHEN / THEN both synthesise (no overlap across clusters)
    for (const c of charts) expect(c.chart.toJson().filter((m: any) => m.kind === 'EnvoyFilter')).toHaveLength(1);
  });

  test('a ProxyProtocolBackend in one chart does not reach the same workload in another chart', () => {
    // GIVEN two alternatives with the same workload, a PROXY backend for it in the second only
    const app = alternativesApp();
    const first = cluster(app, 'first');
    const second = cluster(app, 'second');
    new ProxyProtocolBackend(second.chart, 'Backend', { host: 'httpbin', namespace: 'apps', selector: { app: 'httpbin' }, port: 8080 });
    // WHEN / THEN
    expect(first.workload._workloadModel()?.proxyProtocolOnEveryPort).toBeUndefined();
    expect(second.workload._workloadModel()?.proxyProtocolOnEveryPort).toBe(true);
  });
});
