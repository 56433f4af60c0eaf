import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  InterceptionMode, MeshWorkload, PreservedIngressGateway, TproxyWorkload, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';

/** The seeds' httpbin (ASM): image citizenstig/httpbin on 8000, labels app/version, Service port 8000. */
function httpbin(chart: Chart, interceptionMode: InterceptionMode): TproxyWorkload {
  return new TproxyWorkload(chart, 'Httpbin', {
    interceptionMode,
    source: WorkloadSource.newDeployment({
      image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000,
      labels: { app: 'httpbin', version: 'v1' },
    }),
  });
}

/** The Tetrate article's echo-server (`kubectl create deployment echo-server`, exposed as Service "clusterip" 80 -> 8080). */
function echoServer(chart: Chart, interceptionMode: InterceptionMode): TproxyWorkload {
  const deployment = new kplus.Deployment(chart, 'EchoServer', {
    metadata: { name: 'echo-server' },
    podMetadata: { labels: { app: 'echo-server' } },
    containers: [{ image: 'registry.k8s.io/echoserver:1.4', ports: [{ number: 8080 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
    securityContext: { ensureNonRoot: false },
  });
  deployment.exposeViaService({ name: 'clusterip', ports: [{ port: 80, targetPort: 8080 }] });
  return new TproxyWorkload(chart, 'EchoServerMode', { source: WorkloadSource.fromWorkload(deployment), interceptionMode });
}

/**
 * Adds the east-west scenario charts of the seed documents: ASM "Scenario 1: East-west traffic" (REDIRECT, then
 * TPROXY), ASM "Method 1: TPROXY" and "Method 2: X-Forwarded-For", the Tetrate article's Test 3 (TPROXY) and
 * Test 4 (REDIRECT), and the sidecar side of a gateway that trusts X-Forwarded-For hops.
 */
export function addEastWestCharts(app: App): void {
  // ASM Scenario 1 before the fix / Tetrate Test 4: REDIRECT, httpbin sees 127.0.0.6 (the construct warns).
  httpbin(new Chart(app, 'ew-httpbin-redirect'), InterceptionMode.REDIRECT);

  // ASM Method 1: TPROXY, httpbin sees the sleep pod's IP as its socket peer.
  httpbin(new Chart(app, 'ew-httpbin-tproxy'), InterceptionMode.TPROXY);

  // Tetrate Test 3 and Test 4: the echo-server switched to TPROXY, and back to REDIRECT.
  echoServer(new Chart(app, 'ew-echo-server-tproxy'), InterceptionMode.TPROXY);
  echoServer(new Chart(app, 'ew-echo-server-redirect'), InterceptionMode.REDIRECT);

  // ASM Method 2. The seed applies the EnvoyFilter mesh-wide (istio-system, no selector: XffFilterScope.MESH, see
  // docs/east-west.md); here it is scoped to httpbin, the safer form, so that it does not clash with the other
  // scenarios of this app. Each XFF scenario gets its own namespace for the same reason: in one cluster, two
  // filters that set different things on the same sidecar are an error.
  // httpbin then reads sleep's pod IP as the last X-Forwarded-For entry.
  const scoped = chartIn(app, 'ew-xff-httpbin-use-remote-address');
  new XffSidecarFilter(scoped, 'Xff', { workload: httpbin(scoped, InterceptionMode.REDIRECT), trust: XffTrust.useRemoteAddress(), portNumber: 8000 });

  // Gateway trusting 2 proxies (Tetrate multi-layer): the sidecar trusts the same hops, so remoteIpBlocks on httpbin work.
  const layered = chartIn(app, 'ew-xff-httpbin-gateway-hops');
  const gateway = new PreservedIngressGateway(layered, 'Gateway', { numTrustedProxies: 2, name: 'ew-gateway', namespace: 'ew-xff-httpbin-gateway-hops' });
  gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
  gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.ew-xff-httpbin-gateway-hops.svc.cluster.local', backendPort: 8000 });
  const backend = MeshWorkload.fromLabels(layered, 'Httpbin', { labels: { app: 'httpbin' } });
  new XffSidecarFilter(layered, 'Xff', { workload: backend, trust: XffTrust.trustHopsOf(gateway), portNumber: 8000 });

  // Trusted proxy CIDRs instead of a hop count (sidecars only): the pod CIDR of the callers' proxies is trusted.
  const cidrs = chartIn(app, 'ew-xff-httpbin-trusted-cidrs');
  new XffSidecarFilter(cidrs, 'Xff', {
    workload: httpbin(cidrs, InterceptionMode.TPROXY), trust: XffTrust.trustedCidrs(['172.17.0.0/16']), portNumber: 8000,
  });
}

/** A chart whose objects default to a namespace of the same name. */
function chartIn(app: App, id: string): Chart {
  return new Chart(app, id, { namespace: id });
}
