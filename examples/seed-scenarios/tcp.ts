import { App, Chart } from 'cdk8s';
import {
  LoadBalancerProfile, ProxyProtocolGateway, ProxyProtocolMode, ProxyProtocolVersion, TrustChain, TrustHop,
} from '../../src';

const TCP_BACKEND = 'tcp-echo.apps.svc.cluster.local';

/**
 * Adds the TCP scenario charts of the seed documents: the Tetrate article's "TCP Traffic" section
 * (`gatewayTopology.proxyProtocol: {}` behind an AWS NLB) and the IstioCon talk's "Preserve TCP Original Src
 * Addr - ingress" design (PROXY from the load balancer, PROXY again from the gateway to the backend's sidecar).
 */
export function addTcpCharts(app: App): void {
  // Tetrate "TCP Traffic": the native strict setting behind an AWS NLB (Load Balancer Controller, ip targets).
  const tetrate = new ProxyProtocolGateway(new Chart(app, 'tcp-proxy-protocol-strict'), 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    trustChain: TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'aws-nlb', proxyProtocolVersion: ProxyProtocolVersion.V2 })),
    inClusterCallers: false,
  });
  tetrate.addTcpServer({ port: 9000 });
  tetrate.addTcpRoute({ port: 9000, backendHost: TCP_BACKEND, backendPort: 9000 });

  // IstioCon: the gateway strips PROXY, then sends PROXY v1 to svc-b, whose sidecar strips it again, so the
  // sidecar (remoteIpBlocks) sees the client.
  const istiocon = new ProxyProtocolGateway(new Chart(app, 'tcp-proxy-protocol-to-backend'), 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    inClusterCallers: false,
  });
  istiocon.addTcpServer({ port: 9000 });
  istiocon.addTcpRoute({ port: 9000, backendHost: 'svc-b.apps.svc.cluster.local', backendPort: 9000 });
  istiocon.addProxyProtocolBackend('SvcB', {
    host: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, port: 9000, version: ProxyProtocolVersion.V1,
  });

  // Mixed clients: PROXY optional on every port (EnvoyFilter with allow_requests_without_proxy_protocol), so
  // in-cluster callers of the gateway Service keep working.
  const optional = new ProxyProtocolGateway(new Chart(app, 'tcp-proxy-protocol-optional'), 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.ALIBABA_NLB,
    proxyProtocolMode: ProxyProtocolMode.OPTIONAL,
    serviceAnnotations: { 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-zone-maps': 'cn-hangzhou-k:vsw-k,cn-hangzhou-j:vsw-j' },
  });
  optional.addTcpServer({ port: 9000 });
  optional.addTcpRoute({ port: 9000, backendHost: TCP_BACKEND, backendPort: 9000 });

  // TLS passthrough with PROXY required only on 443 (Tencent CLB, PROXY v2 switched on per listener by hand);
  // port 9000 stays plain for in-cluster callers.
  const perPort = new ProxyProtocolGateway(new Chart(app, 'tls-passthrough-proxy-protocol-per-port'), 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB,
    proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
    proxyProtocolPorts: [443],
    inClusterCallers: true,
  });
  perPort.addTlsPassthroughServer({ hosts: ['db.example.com'] });
  perPort.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
  perPort.addTcpServer({ port: 9000 });
  perPort.addTcpRoute({ port: 9000, backendHost: TCP_BACKEND, backendPort: 9000 });
}
