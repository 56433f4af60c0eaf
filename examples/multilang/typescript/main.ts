import { App, Chart } from 'cdk8s';
import {
  PreservedIngressGateway, TproxyWorkload, TrustChain, TrustHop, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../../src';

/**
 * The TypeScript twin of the Python, Go and Java consumer apps next to it: the same two seed scenarios, built with
 * the same ids and props, so that every language synthesises the same YAML byte for byte (.ci/multilang.sh compares).
 */
export function buildApp(outdir: string = 'dist'): App {
  const app = new App({ outdir });

  // Seed scenario 1: a gateway behind a CDN and an L7 load balancer (2 trusted hops), with a DENY on the client it
  // resolves from X-Forwarded-For, which makes the policy a remoteIpBlocks one.
  const ingress = new Chart(app, 'gateway-two-trusted-proxies');
  const gateway = new PreservedIngressGateway(ingress, 'Gateway', {
    namespace: 'istio-ingress',
    trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn' }), TrustHop.l7LoadBalancer({ name: 'alb' })),
  });
  gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
  gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
  gateway.denyFrom(['198.51.100.0/24']);

  // Seed scenario 2: httpbin with TPROXY interception, and an XffSidecarFilter that trusts the gateway's hop, so
  // the sidecar resolves the same client and the ALLOW policy on it uses remoteIpBlocks.
  const eastWest = new Chart(app, 'tproxy-workload-xff-filter', { namespace: 'web' });
  const workload = new TproxyWorkload(eastWest, 'Httpbin', {
    source: WorkloadSource.newDeployment({
      image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000,
      labels: { app: 'httpbin', version: 'v1' },
    }),
  });
  new XffSidecarFilter(eastWest, 'Xff', { workload, trust: XffTrust.trustedHops(1), portNumber: 8000 });
  workload.allowFrom(['203.0.113.0/24'], { ports: [8000] });

  return app;
}

if (require.main === module) {
  buildApp(process.argv[2] ?? 'dist').synth();
}
