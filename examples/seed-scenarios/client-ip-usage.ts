import { App, Chart, Duration } from 'cdk8s';
import { addWebHttpbin } from './ambient';
import { PreservedIngressGateway } from '../../src';

const HOST = 'httpbin.example.com';

/**
 * Adds the chart that uses the client address once the gateway has it (issue 27): httpbin in namespace `web` behind a
 * gateway with externalTrafficPolicy Local, limited per client at the gateway (10 requests per second, bursts of 20,
 * per gateway replica), with the client written into `x-real-ip` for the app (overwriting any copy the client sent).
 * The gateway is the first hop whose trusted address is the client, so it holds the limit and writes the header.
 */
export function addClientIpUsageCharts(app: App): void {
  const chart = new Chart(app, 'client-ip-usage');
  addWebHttpbin(chart);
  const gateway = new PreservedIngressGateway(chart, 'Gateway');
  gateway.addHttpServer({ hosts: [HOST] });
  gateway.addRoute({ host: HOST, backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
  gateway.rateLimitPerClient({ requests: 10, per: Duration.seconds(1), burst: 20 });
  gateway.clientAddressHeader({ name: 'x-real-ip' });
}
