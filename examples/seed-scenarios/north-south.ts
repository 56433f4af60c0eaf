import { App, Chart } from 'cdk8s';
import {
  ExternalTrafficPolicy, LoadBalancerProfile, PreservedIngressGateway, PreservedIngressGatewayProps,
} from '../../src';
import { TrustChain, TrustHop } from '../../src/model/trust-chain';

const HOST = 'httpbin.example.com';
const BACKEND = 'httpbin.default.svc.cluster.local';

/** httpbin behind a gateway with one HTTP server on port 80. */
function httpScenario(app: App, id: string, props: PreservedIngressGatewayProps): PreservedIngressGateway {
  const chart = new Chart(app, id);
  const gateway = new PreservedIngressGateway(chart, 'Gateway', props);
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 8000 });
  return gateway;
}

/**
 * Adds the north-south scenario charts of the seed documents (ASM "HTTP requests" / "HTTPS requests", the
 * Tetrate article's Test 1 and Test 2, the TCM article's north-south section).
 */
export function addNorthSouthCharts(app: App): void {
  // Test 1 / ASM before the fix: Cluster lets kube-proxy SNAT, httpbin sees a node IP (the construct warns).
  httpScenario(app, 'ns-http-etp-cluster', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });

  // Test 2 / ASM after the fix: Local keeps the client as the packet source; 2 replicas spread over nodes.
  httpScenario(app, 'ns-http-etp-local', { loadBalancerProfile: LoadBalancerProfile.ALIBABA_CLB });

  // HTTPS terminated at the gateway, with HTTP redirected to it.
  const https = new PreservedIngressGateway(new Chart(app, 'ns-https-etp-local'), 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.AWS_NLB_INSTANCE,
  });
  https.addHttpsServer({ hosts: [HOST], credentialName: 'httpbin-credential' });
  https.addHttpsRedirect({ hosts: [HOST] });
  https.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 8000 });

  // One L7 load balancer in front appends the client to X-Forwarded-For: trust 1 hop (Cluster is then fine).
  httpScenario(app, 'ns-http-one-trusted-proxy', { trustChain: TrustChain.of(TrustHop.l7LoadBalancer()) });

  // A CDN and an L7 load balancer in front: trust 2 hops.
  httpScenario(app, 'ns-http-two-trusted-proxies', { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer()) });

  // AWS NLB with ip targets: the client IP survives without relying on the traffic policy.
  httpScenario(app, 'ns-http-aws-nlb-ip', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });

  // ASM's own fix on the Helm-installed istio-ingressgateway: a server-side-apply patch to Local.
  const attached = PreservedIngressGateway.attach(new Chart(app, 'ns-attach-existing'), 'Gateway');
  attached.addHttpServer({ hosts: [HOST] });
  attached.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 8000 });
}
