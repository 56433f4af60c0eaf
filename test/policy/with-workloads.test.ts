import { Testing } from 'cdk8s';
import {
  ClientIpField, IstioVersion, PreservedIngressGateway, TproxyWorkload, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { manifestsOfKind, synthAndValidate } from '../harness';

/*
 * SourceIpPolicy on the real mesh constructs (issue 5): a sidecar gets ipBlocks, or remoteIpBlocks once an
 * XffSidecarFilter trusts the gateway's hops; every object of the chart passes the harness.
 */

function echoServer(chart: any): TproxyWorkload {
  return new TproxyWorkload(chart, 'Echo', {
    source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.10', port: 8080, name: 'echo-server', namespace: 'default', labels: { app: 'echo-server' } }),
  });
}

describe('SourceIpPolicy on TproxyWorkload', () => {
  test.each(IstioVersion.all().map(v => [v.label, v] as const))('allowFrom on a TPROXY sidecar uses ipBlocks (Istio %s)', (_label, istioVersion) => {
    // GIVEN
    const chart = Testing.chart();
    chart.node.setContext('cdk8s-istio-source-ip:istioVersion', istioVersion.label);
    const workload = echoServer(chart);
    // WHEN
    workload.allowFrom(['10.32.0.0/14']);
    // THEN
    const [ap] = manifestsOfKind(synthAndValidate(chart, { istioVersion }), 'AuthorizationPolicy');
    expect(ap.metadata.namespace).toBe('default');
    expect(ap.spec.selector).toEqual({ matchLabels: workload.targetSelector });
    expect(ap.spec.rules[0].from[0].source).toEqual({ ipBlocks: ['10.32.0.0/14'] });
  });

  test('fails a forced remoteIpBlocks without an XffSidecarFilter (istio/istio#30166)', () => {
    const chart = Testing.chart();
    echoServer(chart).denyFrom(['2.2.2.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
    expect(() => Testing.synth(chart)).toThrow(/cannot match clients on sidecar workload.*istio\/istio#30166/);
  });

  test('uses remoteIpBlocks once an XffSidecarFilter trusts the gateway\'s hops', () => {
    // GIVEN a gateway trusting 2 proxies, and a sidecar trusting the same hops
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw', { numTrustedProxies: 2 });
    gateway.addHttpServer();
    const workload = echoServer(chart);
    const policy = workload.denyFrom(['2.2.2.0/24']);
    new XffSidecarFilter(chart, 'Xff', { trust: XffTrust.trustHopsOf(gateway), workload });
    // THEN the policy, created before the filter, follows it
    const manifests = synthAndValidate(chart);
    const ap = manifestsOfKind(manifests, 'AuthorizationPolicy').find(m => m.metadata.name === policy.name);
    expect(ap.spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['2.2.2.0/24'] });
  });
});
