import { App, Chart } from 'cdk8s';
import {
  CdnOnlyPolicy, ClientAddressAccessLog, ExternalTrafficPolicy, InterceptionMode, PreservedIngressGateway, TproxyWorkload, TrustChain, TrustHop,
  WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';

const HOST = 'httpbin.example.com';

/** A chart with a gateway in front of httpbin (TPROXY), both logging the client fields. */
function scenario(app: App, id: string, chain?: TrustChain): { chart: Chart; gateway: PreservedIngressGateway; httpbin: TproxyWorkload } {
  const chart = new Chart(app, id, { namespace: id });
  // Each chart's gateway has its own name, hence its own pod labels: an Istio Gateway's selector picks gateway pods in
  // every namespace, so gateways of one name in the whole app would each get the other charts' Gateways and
  // VirtualServices (the conformance stage saw the header's VirtualService written by the wrong gateways).
  const gateway = new PreservedIngressGateway(chart, 'Gateway', {
    name: id.replace(/^ns-/, ''), namespace: id, ...(chain ? { trustChain: chain } : { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL }),
  });
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: `httpbin.${id}.svc.cluster.local`, backendPort: 8000 });
  const httpbin = new TproxyWorkload(chart, 'Httpbin', {
    interceptionMode: InterceptionMode.TPROXY,
    source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
  });
  // Every proxy on the path logs the client it resolved, in the JSON format of meshConfigProvider() (docs/client-address.md).
  new ClientAddressAccessLog(chart, 'AccessLog', { targets: [gateway, httpbin] });
  return { chart, gateway, httpbin };
}

/**
 * Adds the client-address header scenarios: the app reads X-Real-IP, written by the hop that resolves the client
 * (the gateway with externalTrafficPolicy Local; the sidecar behind a CDN that sends the client in its own header).
 */
export function addClientAddressCharts(app: App): void {
  // 1. The gateway sees the client as the packet source and writes it (its route's VirtualService).
  scenario(app, 'ns-client-header-gateway').gateway.clientAddressHeader({ name: 'x-real-ip' });

  // 2. Behind a CDN: the gateway resolves the CDN edge by design; httpbin's sidecar reads CF-Connecting-IP (only the
  // CDN can reach the gateway, CdnOnlyPolicy) and writes the client into X-Real-IP.
  const behindCdn = scenario(app, 'ns-client-header-sidecar', TrustChain.of(
    TrustHop.cdn({ name: 'example-cdn', cidrs: ['198.51.100.0/24'], clientHeader: 'CF-Connecting-IP' }),
    TrustHop.l4PassThrough({ name: 'nlb' }),
  ));
  const cdnOnly = new CdnOnlyPolicy(behindCdn.chart, 'CdnOnly', { gateway: behindCdn.gateway });
  new XffSidecarFilter(behindCdn.chart, 'Xff', {
    workload: behindCdn.httpbin,
    trust: XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', enforcedBy: cdnOnly }),
    portNumber: 8000,
  });
  behindCdn.httpbin.clientAddressHeader({ name: 'x-real-ip' });
}
