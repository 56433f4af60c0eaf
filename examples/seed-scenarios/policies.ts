import { App, Chart } from 'cdk8s';
import {
  ClientIpField, PolicyAction, PreservedIngressGateway, ProxyProtocolGateway, SourceIpPolicy, TproxyWorkload, WorkloadSource,
  XffSidecarFilter, XffTrust,
} from '../../src';

const HOST = 'clusterip.jimmysong.io';
const BACKEND = 'clusterip.default.svc.cluster.local';

/**
 * The Tetrate article's gateway for its "Use Case Examples": the Helm-installed `istio-ingressgateway` in
 * `istio-system`, three proxies (1.1.1.1, 2.2.2.2, 3.3.3.3) in front and `numTrustedProxies: 2`.
 */
function tetrateGateway(app: App, id: string): PreservedIngressGateway {
  const gateway = PreservedIngressGateway.attach(new Chart(app, id), 'Gateway', { selector: { app: 'istio-ingressgateway' } }, { numTrustedProxies: 2 });
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: BACKEND, backendPort: 80 });
  return gateway;
}

/**
 * Adds the source-IP policy charts of the seed documents (the Tetrate article's "Blocking Specific Source IP"
 * and "Using the Ultimate Client IP", and ASM's reason for preserving the IP: access control at the gateway).
 */
export function addPoliciesCharts(app: App): void {
  // "Blocking Specific Source IP": the gateway trusts 2 XFF hops and resolves 2.2.2.2 as the client, so the
  // DENY matches remoteIpBlocks. (The article's "2.2.2.2/24" has host bits set: the block is 2.2.2.0/24.)
  const blocking = tetrateGateway(app, 'policy-block-source-ip');
  new SourceIpPolicy(blocking, 'IngressPolicy', { target: blocking, name: 'ingress-policy', action: PolicyAction.DENY, cidrs: ['2.2.2.0/24'] });

  // "Using the Ultimate Client IP": match the proxy directly connected to the mesh (the last XFF entry) with
  // ipBlocks, forced; it works because the Service is Local, and synth warns that it is the hop in front.
  const ultimate = tetrateGateway(app, 'policy-ultimate-client-ip');
  new SourceIpPolicy(ultimate, 'IngressPolicy', {
    target: ultimate, name: 'ingress-policy', action: PolicyAction.DENY, field: ClientIpField.IP_BLOCKS, cidrs: ['123.120.234.0/24'],
  });

  // ASM: allow-list offices on a gateway with externalTrafficPolicy Local, nothing in front: ipBlocks.
  const office = new PreservedIngressGateway(new Chart(app, 'policy-office-allow-list'), 'Gateway');
  office.addHttpServer({ hosts: ['httpbin.example.com'] });
  office.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
  office.allowFrom(['203.0.113.0/24', '2001:db8::/32']);
  office.denyFrom(['203.0.113.66']);

  // East-west, the Tetrate article's echo-server in TPROXY mode: its sidecar sees the real peer, so an allow-list
  // of in-cluster callers (the pod CIDR) uses ipBlocks. Behind the gateway, a sidecar that trusts the gateway's
  // 2 hops resolves the same client the gateway did, so blocking 2.2.2.0/24 there uses remoteIpBlocks.
  const eastWest = new Chart(app, 'policy-sidecar-tproxy');
  const gateway = new PreservedIngressGateway(eastWest, 'Gateway', { numTrustedProxies: 2 });
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: 'echo-server.default.svc.cluster.local', backendPort: 8080 });
  const echo = new TproxyWorkload(eastWest, 'EchoServer', {
    source: WorkloadSource.newDeployment({ image: 'registry.k8s.io/echoserver:1.10', port: 8080, servicePort: 8080, name: 'echo-server', namespace: 'default' }),
  });
  new XffSidecarFilter(eastWest, 'TrustGatewayHops', { trust: XffTrust.trustHopsOf(gateway), workload: echo });
  echo.allowFrom(['10.32.0.0/14'], { field: ClientIpField.IP_BLOCKS, ports: [8080] });
  echo.denyFrom(['2.2.2.0/24']);

  // TCP behind an L4 proxy load balancer: only PROXY protocol carries the client, so remoteIpBlocks.
  const tcp = new ProxyProtocolGateway(new Chart(app, 'policy-tcp-proxy-protocol'), 'Gateway');
  tcp.addTcpServer({ port: 5432 });
  tcp.addTcpRoute({ port: 5432, backendHost: 'postgres.db.svc.cluster.local', backendPort: 5432 });
  tcp.allowFrom(['198.51.100.0/24'], { ports: [5432] });
}
