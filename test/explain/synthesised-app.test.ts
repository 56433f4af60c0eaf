import { Testing } from 'cdk8s';
import { Explainer } from '../../src/explain/explainer';
import { PreservedIngressGateway } from '../../src/ingress/preserved-ingress-gateway';
import { TproxyWorkload, WorkloadSource } from '../../src/mesh/tproxy-workload';
import { ExternalTrafficPolicy } from '../../src/model/model';
import { TrustChain, TrustHop } from '../../src/model/trust-chain';

describe('explain a synthesised app built with our constructs', () => {
  test('PreservedIngressGateway (Local) + TproxyWorkload: the gateway sees the client, the app the gateway pod', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'gw', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL });
    gw.addHttpServer();
    new TproxyWorkload(chart, 'web', { source: WorkloadSource.newDeployment({ image: 'kennethreitz/httpbin', port: 8080 }) });
    // WHEN
    const report = Explainer.fromChart(chart);
    // THEN
    const ns = report.paths.find(p => p.direction === 'north-south')!;
    expect(ns).toBeDefined();
    expect(ns.hops.find(h => h.hop.startsWith('gateway'))!.clientAddress).toBe('203.0.113.10');
    expect(ns.appSocketPeer).toBe('10.244.0.5');
    const ew = report.paths.find(p => p.direction === 'east-west')!;
    expect(ew.appSocketPeer).toBe('10.244.2.9');
  });

  test('PreservedIngressGateway with a trust chain: numTrustedProxies from the chain resolves the client', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'gw', { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough()) });
    gw.addHttpServer();
    const report = Explainer.fromChart(chart);
    const ns = report.paths.find(p => p.direction === 'north-south')!;
    expect(ns.hops.find(h => h.hop.startsWith('gateway'))!.clientAddress).toBe('203.0.113.10');
    expect(ns.findings.filter(f => f.severity === 'error')).toEqual([]);
  });
});
