import { App, Chart } from 'cdk8s';
import {
  GatewayFlavour, LoadBalancerProfile, PreservedIngressGateway, PreservedIngressGatewayProps, ProxyProtocolGateway, ProxyProtocolVersion,
  TrustChain, TrustHop,
} from '../../src';

const HOST = 'httpbin.example.com';
const BACKEND = 'httpbin.default.svc.cluster.local';
const GATEWAY_API = GatewayFlavour.GATEWAY_API;

/** httpbin behind a Gateway API gateway with one HTTP listener on port 80. */
function httpScenario(app: App, id: string, props: PreservedIngressGatewayProps): PreservedIngressGateway {
  const gateway = new PreservedIngressGateway(new Chart(app, id), 'Gateway', { ...props, flavour: GATEWAY_API });
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 8000 });
  return gateway;
}

/**
 * Adds the seed scenarios on the Kubernetes Gateway API (`gatewayClassName: istio`): Istio deploys each gateway and
 * its Service, set up by the Gateway's parametersRef ConfigMap (Istio 1.26+).
 */
export function addGatewayApiCharts(app: App): void {
  // North-south HTTP with Local: the service overlay keeps the client as the packet source.
  httpScenario(app, 'gwapi-http-etp-local', { loadBalancerProfile: LoadBalancerProfile.ALIBABA_CLB });

  // HTTPS terminated at the gateway (certificateRefs), HTTP redirected to it.
  const https = new PreservedIngressGateway(new Chart(app, 'gwapi-https-etp-local'), 'Gateway', {
    flavour: GATEWAY_API, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_INSTANCE,
  });
  https.addHttpsServer({ hosts: [HOST], credentialName: 'httpbin-credential' });
  https.addHttpsRedirect({ hosts: [HOST] });
  https.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 8000 });

  // A CDN and an L7 load balancer in front: the Gateway's proxy.istio.io/config trusts 2 hops.
  httpScenario(app, 'gwapi-http-two-trusted-proxies', { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer()) });

  // PROXY protocol for TCP behind an AWS NLB: gatewayTopology.proxyProtocol and a TCPRoute.
  const tcp = new ProxyProtocolGateway(new Chart(app, 'gwapi-tcp-proxy-protocol'), 'Gateway', {
    flavour: GATEWAY_API,
    loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    trustChain: TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'aws-nlb', proxyProtocolVersion: ProxyProtocolVersion.V2 })),
    inClusterCallers: false,
  });
  tcp.addTcpServer({ port: 9000 });
  tcp.addTcpRoute({ port: 9000, backendHost: 'tcp-echo.apps.svc.cluster.local', backendPort: 9000 });

  // Allow the office and deny one address, attached to the Gateway with targetRefs (IPv4 and IPv6, since the
  // generated Service is PreferDualStack).
  const office = httpScenario(app, 'gwapi-allow-deny-by-client-ip', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
  office.allowFrom(['203.0.113.0/24', '2001:db8:1::/48']);
  office.denyFrom(['203.0.113.66', '2001:db8:1::66']);
}
