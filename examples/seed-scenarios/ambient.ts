import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AmbientNamespace, AmbientWorkload, PreservedIngressGateway, Waypoint } from '../../src';

const HOST = 'httpbin.example.com';
const OFFICES = ['198.51.100.0/24'];
const BLOCKED = ['198.51.100.66'];

/** httpbin (pods `app: httpbin`) in namespace `web`, with Service httpbin 8000 -> 80. */
export function addWebHttpbin(chart: Chart): kplus.Deployment {
  const deployment = new kplus.Deployment(chart, 'Httpbin', {
    metadata: { name: 'httpbin', namespace: 'web' },
    podMetadata: { labels: { app: 'httpbin' } },
    containers: [{ image: 'docker.io/kong/httpbin', ports: [{ number: 80 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
    securityContext: { ensureNonRoot: false },
  });
  deployment.exposeViaService({ name: 'httpbin', ports: [{ port: 8000, targetPort: 80 }] });
  return deployment;
}

/** httpbin in ambient namespace `web` (Service httpbin 8000 -> 80), behind a gateway with externalTrafficPolicy Local. */
function httpbinBehindGateway(chart: Chart): { gateway: PreservedIngressGateway } {
  addWebHttpbin(chart);
  const gateway = new PreservedIngressGateway(chart, 'Gateway');
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
  return { gateway };
}

/**
 * Adds the ambient charts: httpbin in an ambient namespace behind the ingress gateway, without a waypoint (client
 * addresses are matched at the gateway; ztunnel matches only callers' pod addresses) and with one (the waypoint
 * matches the client the gateway appended to X-Forwarded-For).
 */
export function addAmbientCharts(app: App): void {
  // Without a waypoint: ztunnel keeps the caller's address, so the app sees the gateway pod; the gateway (Local)
  // allows the offices with ipBlocks, and ztunnel admits only the gateway's and the mesh's pods with ipBlocks.
  const plain = new Chart(app, 'ambient-no-waypoint');
  new AmbientNamespace(plain, 'Web', { name: 'web' });
  const direct = httpbinBehindGateway(plain);
  direct.gateway.allowFrom(OFFICES);
  direct.gateway.denyFrom(BLOCKED);
  AmbientWorkload.fromLabels(plain, 'HttpbinAmbient', { labels: { app: 'httpbin' }, namespace: 'web', name: 'httpbin' })
    .allowFrom(['10.244.0.0/16'], { ports: [80] });

  // With a waypoint that ingress traffic passes too: the waypoint's remote.ip is the client the gateway appended to
  // X-Forwarded-For, so allow and deny by client address are attached to the waypoint with targetRefs.
  const viaWaypoint = new Chart(app, 'ambient-waypoint');
  const waypoint = new Waypoint(viaWaypoint, 'Waypoint', { namespace: 'web' });
  new AmbientNamespace(viaWaypoint, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
  httpbinBehindGateway(viaWaypoint);
  AmbientWorkload.fromLabels(viaWaypoint, 'HttpbinAmbient', { labels: { app: 'httpbin' }, namespace: 'web', name: 'httpbin' });
  waypoint.allowFrom(OFFICES);
  waypoint.denyFrom(BLOCKED);
}
