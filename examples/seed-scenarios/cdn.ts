import * as path from 'path';
import { App, Chart } from 'cdk8s';
import {
  CdnOnlyPolicy, CidrList, CidrListPolicy, InterceptionMode, PreservedIngressGateway, TproxyWorkload, TrustChain, TrustHop,
  WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';

const HOST = 'httpbin.example.com';
/** The L7 load balancer's egress range and the gateway pods' CIDR (the sidecars' peers). */
const LOAD_BALANCER_CIDRS = ['100.64.0.0/24'];
const GATEWAY_POD_CIDRS = ['10.244.0.0/16'];
/** The nodes' range: with externalTrafficPolicy Cluster the gateway appends a node address to X-Forwarded-For. */
const NODE_CIDRS = ['10.0.0.0/16'];
/** A partner allow-list: two adjacent blocks and a duplicate, aggregated by CidrList. */
const PARTNERS = ['203.0.113.0/25', '203.0.113.128/25', '203.0.113.0/25', '2001:db8:beef::/48'];

/** The CDN's published ranges, read when the app is synthesised. */
export function cdnRanges(): CidrList {
  return CidrList.fromFile(path.join(__dirname, 'cdn-example-ranges.txt'), { name: 'example-cdn' });
}

/** A namespace-scoped chart with a gateway for `chain` and httpbin (TPROXY) behind it. */
function cdnScenario(app: App, id: string, chain: TrustChain): { chart: Chart; gateway: PreservedIngressGateway; httpbin: TproxyWorkload } {
  const chart = new Chart(app, id, { namespace: id });
  // A name of its own per chart: an Istio Gateway selects gateway pods in every namespace by their labels, so two charts'
  // gateways of one name would also take each other's routes where the charts are applied together.
  const gateway = new PreservedIngressGateway(chart, 'Gateway', { name: id.replace(/^ns-cdn-/, 'edge-'), namespace: id, trustChain: chain });
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: `httpbin.${id}.svc.cluster.local`, backendPort: 8000 });
  const httpbin = new TproxyWorkload(chart, 'Httpbin', {
    interceptionMode: InterceptionMode.TPROXY,
    source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
  });
  return { chart, gateway, httpbin };
}

/**
 * Adds the "CDN in front" scenario (client -> CDN -> L7 load balancer -> gateway -> httpbin) twice: once resolving
 * the client by trusted CIDRs, once from the CDN's client header.
 */
export function addCdnCharts(app: App): void {
  // 1. Trusted CIDRs. The CDN sometimes adds an inner tier (variableHops), so no hop count is right on every path.
  // The gateway trusts the lower bound (2); httpbin's sidecar walks X-Forwarded-For from the right over the CDN, load
  // balancer and gateway-pod ranges, so it finds the client on every path; a forged entry stays to the left of it.
  const cdn = cdnRanges();
  const byCidrs = cdnScenario(app, 'ns-cdn-trusted-cidrs', TrustChain.of(
    TrustHop.cdn({ name: 'example-cdn', cidrs: cdn.cidrs, variableHops: true }),
    TrustHop.l7LoadBalancer({ name: 'l7-lb', cidrs: LOAD_BALANCER_CIDRS }),
  ));
  new XffSidecarFilter(byCidrs.chart, 'Xff', {
    workload: byCidrs.httpbin,
    // The chain's CDN and load balancer ranges, plus the node and gateway-pod ranges between the gateway and the sidecar.
    trust: XffTrust.trustedCidrsOf(byCidrs.gateway, [...NODE_CIDRS, ...GATEWAY_POD_CIDRS]),
    portNumber: 8000,
  });
  new CidrListPolicy(byCidrs.chart, 'Partners', { target: byCidrs.httpbin, list: CidrList.fromCidrs(PARTNERS, { name: 'partners' }), name: 'partners', ports: [8000] });

  // 2. Client header. The CDN sends the client in CF-Connecting-IP; the gateway trusts only the load balancer
  // after it, so its remote.ip is the CDN edge and a CdnOnlyPolicy denies everything else. httpbin's sidecar reads
  // the header and rejects requests without it (403).
  const byHeader = cdnScenario(app, 'ns-cdn-client-header', TrustChain.of(
    TrustHop.cdn({ name: 'example-cdn', cidrs: cdn.cidrs, clientHeader: 'CF-Connecting-IP' }),
    TrustHop.l7LoadBalancer({ name: 'l7-lb', cidrs: LOAD_BALANCER_CIDRS }),
  ));
  const cdnOnly = new CdnOnlyPolicy(byHeader.chart, 'CdnOnly', { gateway: byHeader.gateway, name: 'cdn-only' });
  new XffSidecarFilter(byHeader.chart, 'Xff', {
    workload: byHeader.httpbin,
    trust: XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', enforcedBy: cdnOnly }),
    portNumber: 8000,
  });
  new CidrListPolicy(byHeader.chart, 'Partners', { target: byHeader.httpbin, list: CidrList.fromCidrs(PARTNERS, { name: 'partners' }), name: 'partners', ports: [8000] });
}
