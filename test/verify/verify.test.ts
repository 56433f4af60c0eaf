import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { PreservedIngressGateway, TproxyWorkload, TrustChain, TrustHop, WorkloadSource } from '../../src';
import { parseYamlDocuments } from '../../src/explain/manifest-parser';
import { IstioVersion } from '../../src/model/istio-version';
import { parseAccessLogLine, parseEchoServer, parseHttpbin, readObservations } from '../../src/verify/observations';
import { verifyManifests, VerifyReport, verifyReportText } from '../../src/verify/verifier';
import { docs, gatewayYaml, workloadYaml } from '../explain/fixtures';
import { runCli } from '../harness/cli';

/*
 * verify against values the seeds and istio.io published, and against access-log lines written in Istio's default
 * text format (pilot/pkg/model/telemetry_logging.go). Each case has a cluster state that matches and one that does
 * not, with the cause the observations point to ranked first.
 */

// Tetrate / Jimmy Song, "Maintaining Traffic Transparency: Preserving Client Source IP in Istio": the client,
// node and pod addresses of the article's cluster, and echo-server's answers in Tests 1-4 (headers trimmed).
const TETRATE_CLIENT = '123.120.247.15';
const TEST_1 = `CLIENT VALUES: client_address=127.0.0.6 command=GET real path=/ query=nil request_version=1.1
HEADERS RECEIVED: accept=/ host=clusterip.jimmysong.io user-agent=curl/8.4.0 x-envoy-attempt-count=1 x-envoy-internal=true x-forwarded-for=10.128.0.54 x-forwarded-proto=http
BODY: -no body in request-`;
const TEST_2 = `CLIENT VALUES: client_address=127.0.0.6 command=GET real path=/ query=nil request_version=1.1
HEADERS RECEIVED: accept=/ host=clusterip.jimmysong.io user-agent=curl/8.4.0 x-envoy-attempt-count=1 x-envoy-external-address=123.120.247.15 x-forwarded-for=123.120.247.15 x-forwarded-proto=http
BODY: -no body in request-`;
const TEST_3 = `CLIENT VALUES: client_address=10.32.3.202 command=GET real path=/ query=nil request_version=1.1
HEADERS RECEIVED: accept=/ host=clusterip user-agent=curl/8.5.0 x-envoy-attempt-count=1 x-forwarded-proto=http
BODY: -no body in request-`;
const TEST_4 = `CLIENT VALUES: client_address=127.0.0.6 command=GET real path=/ query=nil request_version=1.1
HEADERS RECEIVED: accept=/ host=clusterip user-agent=curl/8.5.0 x-envoy-attempt-count=1 x-forwarded-proto=http
BODY: -no body in request-`;
const SLEEP_POD = '10.32.3.202';

/** An access-log line of the gateway in Istio's default format, as `kubectl logs --prefix` prints it. */
function gatewayLog(xff: string, remote: string): string {
  return `[pod/istio-ingressgateway-6d9f8f7b4c-x2x7k/istio-proxy] [2024-02-04T10:00:00.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 612 3 2 "${xff}" "curl/8.4.0" "35bc2123-0971-9a9c-84c1-2aeee233a268" "clusterip.jimmysong.io" "10.32.1.123:8080" outbound|8080||clusterip.default.svc.cluster.local 10.32.2.5:41234 10.32.2.5:8080 ${remote}:53422 - -`;
}

function manifests(etp: 'Local' | 'Cluster', mode = 'REDIRECT', proxyConfig?: string): any[] {
  return parseYamlDocuments(docs(gatewayYaml({ etp, proxyConfig }), workloadYaml(mode, 'echo-server', 'default')));
}

function observations(entries: object[], extra: object = {}) {
  return readObservations(JSON.stringify({ client: TETRATE_CLIENT, nodes: ['10.128.0.0/20'], pods: ['10.32.0.0/14'], ...extra, observations: entries }), 'obs.yaml');
}

function firstCause(report: VerifyReport): string | undefined {
  return report.causes[0]?.id;
}

describe('reading what the cluster produced', () => {
  test('an access-log line in Istio\'s default format gives the downstream remote address and X-Forwarded-For', () => {
    // GIVEN a gateway line with the kubectl --prefix pod name, and the same line without it
    const line = gatewayLog('203.0.113.10,198.51.100.7', '198.51.100.7');
    // WHEN it is parsed
    // THEN the address loses its port and the list its separators
    expect(parseAccessLogLine(line)).toEqual({ clientAddress: '198.51.100.7', forwardedFor: ['203.0.113.10', '198.51.100.7'] });
    expect(parseAccessLogLine(line.replace(/^\[pod\/[^\]]+\] /, ''))).toEqual(parseAccessLogLine(line));
    expect(parseAccessLogLine(gatewayLog('-', '10.32.2.9'))).toEqual({ clientAddress: '10.32.2.9', forwardedFor: null });
  });

  test('lines in another format are not read as access logs', () => {
    expect(parseAccessLogLine('2024-02-04T10:00:00.000000Z\tinfo\tEnvoy proxy is ready')).toBeUndefined();
    // JSON of another shape (Istio's own JSON logs without the client fields) is not an access-log line either
    expect(parseAccessLogLine('{"level":"info","msg":"Envoy proxy is ready"}')).toBeUndefined();
    expect(parseAccessLogLine('{"downstream_remote_address":"not an address"}')).toBeUndefined();
  });

  test('httpbin /headers (Python and go-httpbin) and /ip, and echo-server text', () => {
    expect(parseHttpbin('{"headers": {"X-Forwarded-For": "203.0.113.10", "X-Envoy-External-Address": "203.0.113.10"}}', 'x'))
      .toEqual({
        forwardedFor: ['203.0.113.10'],
        externalAddress: '203.0.113.10',
        headers: { 'x-forwarded-for': '203.0.113.10', 'x-envoy-external-address': '203.0.113.10' },
      });
    expect(parseHttpbin('{"headers": {"X-Forwarded-For": ["203.0.113.10"]}}', 'x'))
      .toEqual({ forwardedFor: ['203.0.113.10'], externalAddress: null, headers: { 'x-forwarded-for': '203.0.113.10' } });
    expect(parseHttpbin('{"origin": "203.0.113.10, 10.128.0.54"}', 'x')).toEqual({ origin: ['203.0.113.10', '10.128.0.54'] });
    expect(parseEchoServer(TEST_2, 'x')).toMatchObject({ socketPeer: '127.0.0.6', forwardedFor: [TETRATE_CLIENT], externalAddress: TETRATE_CLIENT });
    expect(parseEchoServer(TEST_2, 'x').headers).toMatchObject({ 'x-forwarded-for': TETRATE_CLIENT });
    expect(parseEchoServer(TEST_3, 'x')).toMatchObject({ socketPeer: SLEEP_POD, forwardedFor: null, externalAddress: null });
  });

  test('fails on an observation without input, with a wrong hop, or an access log at the app', () => {
    expect(() => readObservations('client: 203.0.113.10\nobservations: [{hop: gateway}]', 'o.yaml')).toThrow(/o\.yaml: observations\[0\].*exactly one of accessLog:, httpbin:, echoServer:/);
    expect(() => readObservations('client: 203.0.113.10\nobservations: [{hop: node, httpbin: "{}"}]', 'o.yaml')).toThrow(/hop "node" is not allowed: use one of gateway, sidecar, waypoint, app/);
    expect(() => readObservations(`client: 203.0.113.10\nobservations: [{hop: app, accessLog: '${gatewayLog('-', '1.2.3.4')}'}]`, 'o.yaml')).toThrow(/hop app has no Envoy access log/);
    expect(() => readObservations('client: nowhere\nobservations: []', 'o.yaml')).toThrow(/client "nowhere" is not an IP address/);
  });
});

describe('Tetrate Tests 1-4', () => {
  test('Test 2 (externalTrafficPolicy Local, REDIRECT): ok on Local, and on Cluster the source preserved is the first cause', () => {
    // GIVEN the article's Test 2 answer and the gateway's access-log line for the same request
    const observed = observations([
      { hop: 'app', echoServer: TEST_2 },
      { hop: 'gateway', accessLog: gatewayLog(TETRATE_CLIENT, TETRATE_CLIENT) },
    ]);
    // WHEN the manifests say Local, THEN every hop matches
    const ok = verifyManifests(manifests('Local'), observed);
    expect(ok.observations.map(o => o.verdict)).toEqual(['ok', 'ok']);
    expect(ok.ok).toBe(true);
    // WHEN they say Cluster, THEN both differ and the alternative with the source preserved explains both
    const bad = verifyManifests(manifests('Cluster'), observed);
    expect(bad.ok).toBe(false);
    expect(bad.observations.map(o => o.verdict)).toEqual(['mismatch', 'mismatch']);
    expect(firstCause(bad)).toBe('source-preserved');
    expect(bad.causes[0]).toMatchObject({ explains: 2, of: 2 });
    expect(bad.observations[0].explainedBy).toBe('source-preserved');
  });

  test('Test 1 (externalTrafficPolicy Cluster, Istio of 2024): ok on Cluster, and on Local the lost source is the first cause', () => {
    // GIVEN the article's Test 1 answer: the node address in X-Forwarded-For, marked internal, no external address
    const observed = observations([{ hop: 'app', echoServer: TEST_1 }]);
    // WHEN the manifests say Cluster on a release whose Envoy treats private addresses as internal
    const ok = verifyManifests(manifests('Cluster'), observed, { istioVersion: IstioVersion.V1_24 });
    // THEN it matches
    expect(ok.observations[0].fields.every(f => f.ok)).toBe(true);
    expect(ok.ok).toBe(true);
    // WHEN the manifests say Local, THEN the load balancer not preserving the source is first
    const bad = verifyManifests(manifests('Local'), observed, { istioVersion: IstioVersion.V1_24 });
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('source-not-preserved');
    expect(verifyReportText(bad)).toMatch(/MISMATCH X-Forwarded-For: predicted client; observed 10\.128\.0\.54 \(node\)/);
  });

  test('Test 1 on Istio 1.25 and later: the node would get X-Envoy-External-Address, so the release is the cause', () => {
    const observed = observations([{ hop: 'app', echoServer: TEST_1 }]);
    const report = verifyManifests(manifests('Cluster'), observed, { istioVersion: IstioVersion.LATEST });
    expect(report.ok).toBe(false);
    expect(report.observations[0].fields.find(f => f.field === 'X-Envoy-External-Address')).toMatchObject({ predicted: 'node', observed: 'none', ok: false });
    expect(firstCause(report)).toBe('istio-release');
  });

  test('Test 3 (east-west, TPROXY): ok on TPROXY, and on REDIRECT the interception mode is the first cause', () => {
    // GIVEN the sleep pod's request to echo-server and echo-server's answer
    const observed = observations([{ path: 'east-west', hop: 'app', client: SLEEP_POD, echoServer: TEST_3 }]);
    expect(verifyManifests(manifests('Local', 'TPROXY'), observed).ok).toBe(true);
    const bad = verifyManifests(manifests('Local', 'REDIRECT'), observed);
    expect(bad.ok).toBe(false);
    expect(bad.observations[0].fields.find(f => f.field === 'socket peer')).toMatchObject({ predicted: '127.0.0.6', observed: '10.32.3.202 (client)' });
    expect(firstCause(bad)).toBe('interception-tproxy');
  });

  test('Test 4 (east-west, REDIRECT): ok on REDIRECT, and on TPROXY the interception mode is the first cause', () => {
    const observed = observations([{ path: 'east-west', hop: 'app', client: SLEEP_POD, echoServer: TEST_4 }]);
    expect(verifyManifests(manifests('Local', 'REDIRECT'), observed).ok).toBe(true);
    const bad = verifyManifests(manifests('Local', 'TPROXY'), observed);
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('interception-redirect');
  });
});

// Alibaba Cloud ASM, "Preserve the source IP address of a client": httpbin /ip answers. The page masks the pod and client
// addresses (172.17.X.XXX, 120.244.XXX.XXX); the tests fill the masked digits with addresses in the same ranges.
const ALIBABA_NODE = '10.0.0.93';
const ALIBABA_CLIENT = '120.244.10.20';
const ALIBABA_SLEEP = '172.17.0.23';

describe('Alibaba ASM httpbin /ip', () => {
  function alibaba(entries: object[]) {
    return readObservations(JSON.stringify({ client: ALIBABA_CLIENT, nodes: ['10.0.0.0/24'], pods: ['172.17.0.0/16'], observations: entries }), 'alibaba.yaml');
  }
  const asm = (etp: 'Local' | 'Cluster', mode?: string) => parseYamlDocuments(docs(gatewayYaml({ etp }), workloadYaml(mode, 'httpbin', 'default')));

  test('east-west origin 127.0.0.6 (REDIRECT): ok on REDIRECT, and on TPROXY the interception mode is first', () => {
    const observed = alibaba([{ path: 'east-west', hop: 'app', client: ALIBABA_SLEEP, httpbin: '{ "origin": "127.0.0.6" }' }]);
    expect(verifyManifests(asm('Local'), observed).ok).toBe(true);
    const bad = verifyManifests(asm('Local', 'TPROXY'), observed);
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('interception-redirect');
  });

  test('east-west origin of the sleep pod (TPROXY): ok on TPROXY, and on REDIRECT the interception mode is first', () => {
    const observed = alibaba([{ path: 'east-west', hop: 'app', client: ALIBABA_SLEEP, httpbin: `{ "origin": "${ALIBABA_SLEEP}" }` }]);
    expect(verifyManifests(asm('Local', 'TPROXY'), observed).ok).toBe(true);
    expect(firstCause(verifyManifests(asm('Local', 'REDIRECT'), observed))).toBe('interception-tproxy');
  });

  test('north-south origin of the node (10.0.0.93): ok on Cluster, and on Local the lost source is first', () => {
    const observed = alibaba([{ hop: 'app', httpbin: `{ "origin": "${ALIBABA_NODE}" }` }]);
    expect(verifyManifests(asm('Cluster'), observed).ok).toBe(true);
    const bad = verifyManifests(asm('Local'), observed);
    expect(bad.observations[0].fields[0]).toMatchObject({ field: 'origin', predicted: 'client', observed: `${ALIBABA_NODE} (node)`, ok: false });
    expect(firstCause(bad)).toBe('source-not-preserved');
  });

  test('north-south origin of the client after externalTrafficPolicy Local: ok on Local, and on Cluster the preserved source is first', () => {
    const observed = alibaba([{ hop: 'app', httpbin: `{ "origin": "${ALIBABA_CLIENT}" }` }]);
    expect(verifyManifests(asm('Local'), observed).ok).toBe(true);
    expect(firstCause(verifyManifests(asm('Cluster'), observed))).toBe('source-preserved');
  });
});

// Tencent Cloud TCM (Yin Ye), "Istio 中实现客户端源 IP 的保持": in namespace foo, sleep (172.17.0.58) curls httpbin
// (172.17.0.57) and httpbin /ip answers { "origin": "127.0.0.6" } with the default REDIRECT interception.
describe('Tencent TCM east-west httpbin /ip', () => {
  const TENCENT_SLEEP = '172.17.0.58';
  function tencent(origin: string) {
    return readObservations(JSON.stringify({ client: TENCENT_SLEEP, pods: ['172.17.0.0/16'], observations: [{ path: 'east-west', hop: 'app', client: TENCENT_SLEEP, httpbin: `{ "origin": "${origin}" }` }] }), 'tencent.yaml');
  }
  const foo = (mode?: string) => parseYamlDocuments(docs(workloadYaml(mode, 'httpbin', 'foo')));

  test('origin 127.0.0.6: ok on REDIRECT (the page\'s httpbin), and after the TPROXY patch the interception mode is first', () => {
    expect(verifyManifests(foo(), tencent('127.0.0.6')).ok).toBe(true);
    const bad = verifyManifests(foo('TPROXY'), tencent('127.0.0.6'));
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('interception-redirect');
  });

  test('origin of the sleep pod: ok on TPROXY, and on REDIRECT the interception mode is first', () => {
    expect(verifyManifests(foo('TPROXY'), tencent(TENCENT_SLEEP)).ok).toBe(true);
    expect(firstCause(verifyManifests(foo(), tencent(TENCENT_SLEEP)))).toBe('interception-tproxy');
  });
});

// istio.io, "Configuring Gateway Network Topology" (istio/istio.io, content/en/docs/ops/configuration/traffic-management/
// network-topologies, snips.sh): with numTrustedProxies 2, `curl -H 'X-Forwarded-For: 56.5.6.7, 72.9.5.6, 98.1.2.3'`
// gets from httpbin /get X-Envoy-External-Address 72.9.5.6 and X-Forwarded-For (and origin) with the gateway's peer
// 10.244.0.1 appended. The gateway takes the two rightmost entries for the proxies in front: 72.9.5.6 is the client,
// 98.1.2.3 and 10.244.0.1 the two proxies, and 56.5.6.7 an entry the client sent itself.
describe('istio.io Configuring Gateway Network Topology: httpbin /get', () => {
  const XFF = '56.5.6.7, 72.9.5.6, 98.1.2.3,10.244.0.1';
  const observed = readObservations(JSON.stringify({
    client: '72.9.5.6',
    clientSent: ['56.5.6.7'],
    proxies: { edge: ['98.1.2.3'], lb: ['10.244.0.1'] },
    observations: [{ hop: 'app', httpbin: { headers: { 'X-Envoy-External-Address': '72.9.5.6', 'X-Forwarded-For': XFF }, origin: XFF } }],
  }), 'istio-io.yaml');
  const topology = (hops: number) => parseYamlDocuments(docs(gatewayYaml({ etp: 'Local', proxyConfig: `{"gatewayTopology":{"numTrustedProxies":${hops}}}` }),
    workloadYaml('REDIRECT', 'httpbin', 'httpbin')));

  test('numTrustedProxies 2 (the page\'s gateway): ok', () => {
    const report = verifyManifests(topology(2), observed);
    expect(verifyReportText(report)).toMatch(/verdict: ok/);
  });

  test('numTrustedProxies 1: a mismatch, with the hop count one short ranked first', () => {
    const report = verifyManifests(topology(1), observed);
    expect(report.ok).toBe(false);
    expect(firstCause(report)).toBe('hop-count-plus-one');
  });

  test('without clientSent the entry the client sent is a difference', () => {
    const bare = readObservations(JSON.stringify({
      client: '72.9.5.6',
      proxies: { edge: ['98.1.2.3'], lb: ['10.244.0.1'] },
      observations: [{ hop: 'app', httpbin: { headers: { 'X-Envoy-External-Address': '72.9.5.6', 'X-Forwarded-For': XFF } } }],
    }), 'istio-io.yaml');
    expect(verifyManifests(topology(2), bare).ok).toBe(false);
  });
});

describe('hop counts and bypasses, in lines written in the default format', () => {
  // istio.io "Configuring Gateway Network Topology": numTrustedProxies counts the proxies in front.
  const CDN = '198.51.100.7';
  test('one L7 proxy in front: ok with numTrustedProxies 1, and with 0 one trusted proxy more in front is first', () => {
    // GIVEN the gateway's line: the CDN appended the client, the gateway appended the CDN and resolved the client
    const observed = observations([
      { hop: 'gateway', accessLog: gatewayLog(`${TETRATE_CLIENT},${CDN}`, TETRATE_CLIENT) },
      { hop: 'app', httpbin: { headers: { 'X-Forwarded-For': `${TETRATE_CLIENT},${CDN}`, 'X-Envoy-External-Address': TETRATE_CLIENT } } },
    ], { proxies: { cdn: ['198.51.100.0/24'] } });
    const good = verifyManifests(manifests('Local', 'REDIRECT', '{"gatewayTopology":{"numTrustedProxies":1}}'), observed);
    expect(verifyReportText(good)).toMatch(/verdict: ok/);
    const bad = verifyManifests(manifests('Local', 'REDIRECT'), observed);
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('proxies-in-front-plus-one');
  });

  test('a second proxy in front that numTrustedProxies 1 does not count: ok when the manifests count it, else the hop count is first', () => {
    // GIVEN a CDN edge and inner tier in front: the gateway with numTrustedProxies 1 resolves the edge, not the client
    const observed = observations([
      { hop: 'gateway', accessLog: gatewayLog(`${TETRATE_CLIENT},${CDN},198.51.100.8`, CDN) },
    ], { proxies: { cdn: ['198.51.100.0/24'] } });
    const bad = verifyManifests(manifests('Local', 'REDIRECT', '{"gatewayTopology":{"numTrustedProxies":1}}'), observed);
    expect(bad.observations[0].fields.find(f => f.field === 'client address')).toMatchObject({ predicted: 'client', observed: `${CDN} (proxy cdn)`, ok: false });
    expect(firstCause(bad)).toBe('hop-count-plus-one');
    // WHEN the manifests trust both proxies the gateway would resolve the client: still a mismatch, the count is one too many
    const other = verifyManifests(manifests('Local', 'REDIRECT', '{"gatewayTopology":{"numTrustedProxies":2}}'), observed);
    expect(other.ok).toBe(false);
    expect(firstCause(other)).toBe('num-trusted-proxies-minus-one');
  });

  test('a sidecar line: the rightmost X-Forwarded-For entry, logged unchanged; on a TPROXY manifest only the app differs', () => {
    // GIVEN Test 2's request as the REDIRECT sidecar logs it: remote address the client from X-Forwarded-For
    const sidecarLine = `[pod/echo-server-6d9f5d97d7-bgpk6/istio-proxy] [2024-02-04T10:00:00.001Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 612 1 1 "${TETRATE_CLIENT}" "curl/8.4.0" "35bc2123-0971-9a9c-84c1-2aeee233a268" "clusterip.jimmysong.io" "10.32.1.123:8080" inbound|8080|| 127.0.0.6:44781 10.32.1.123:8080 ${TETRATE_CLIENT}:0 outbound_.8080_._.clusterip.default.svc.cluster.local default`;
    const observed = observations([{ hop: 'sidecar', accessLog: sidecarLine }, { hop: 'app', echoServer: TEST_2 }]);
    const ok = verifyManifests(manifests('Local', 'REDIRECT'), observed);
    expect(ok.observations.map(o => `${o.hop}: ${o.verdict}`)).toEqual(['sidecar REDIRECT: ok', 'app: ok']);
    const bad = verifyManifests(manifests('Local', 'TPROXY'), observed);
    expect(bad.observations.map(o => o.verdict)).toEqual(['ok', 'mismatch']);
    expect(firstCause(bad)).toBe('interception-redirect');
  });

  test('PROXY protocol declared but not sent: the gateway sees the node, and PROXY not sent is first', () => {
    // GIVEN a gateway that accepts PROXY behind a load balancer annotated to send it, on externalTrafficPolicy Cluster
    const yaml = docs(gatewayYaml({
      etp: 'Cluster',
      proxyConfig: '{"gatewayTopology":{"proxyProtocol":{}}}',
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' },
    }), workloadYaml('REDIRECT', 'echo-server', 'default'));
    // WHEN the gateway logs the node as the downstream remote address
    const observed = observations([{ hop: 'gateway', accessLog: gatewayLog('10.128.0.54', '10.128.0.54') }]);
    const bad = verifyManifests(parseYamlDocuments(yaml), observed);
    // THEN the model predicted the client from PROXY, and the load balancer not sending it explains the node
    expect(bad.observations[0].fields[0]).toMatchObject({ predicted: 'client', observed: '10.128.0.54 (node)', ok: false });
    expect(firstCause(bad)).toBe('proxy-protocol-not-sent');
    // AND the line the model predicts (the client from PROXY) matches
    expect(verifyManifests(parseYamlDocuments(yaml), observations([{ hop: 'gateway', accessLog: gatewayLog(TETRATE_CLIENT, TETRATE_CLIENT) }])).ok).toBe(true);
  });

  test('the app saw no X-Forwarded-For and 127.0.0.6: the request bypassed the gateway', () => {
    const observed = observations([{ hop: 'app', echoServer: TEST_4 }]);
    const bad = verifyManifests(manifests('Local'), observed);
    expect(bad.ok).toBe(false);
    expect(firstCause(bad)).toBe('bypassed-gateway');
  });
});

describe('the worked example of docs/verify.md', () => {
  test('a proxy in front that the trust chain does not declare is the first cause', () => {
    // GIVEN the docs' app: an ALB (declared) in front of an NLB, httpbin with a TPROXY sidecar
    const app = new App();
    const chart = new Chart(app, 'httpbin-ingress');
    const gateway = new PreservedIngressGateway(chart, 'Gateway', {
      namespace: 'istio-ingress',
      trustChain: TrustChain.of(TrustHop.l7LoadBalancer({ name: 'alb', cidrs: ['198.51.100.0/24'] }), TrustHop.l4PassThrough({ name: 'nlb' })),
    });
    gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
    gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
    const httpbin = new kplus.Deployment(chart, 'Httpbin', {
      metadata: { name: 'httpbin', namespace: 'web' },
      podMetadata: { labels: { app: 'httpbin' } },
      containers: [{ image: 'docker.io/kennethreitz/httpbin', ports: [{ number: 8000 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
      securityContext: { ensureNonRoot: false },
    });
    new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(httpbin) });
    const line = (xff: string, remote: string) => `[pod/ingressgateway-7c9d5b7f6d-q2x8z/istio-proxy] [2026-01-05T10:12:01.337Z] "GET /headers HTTP/1.1" 200 - via_upstream - "-" 0 612 4 3 "${xff}" "curl/8.5.0" "5b1c1e2a-3f7e-4d55-9c1e-0d4f1f2a6b7c" "httpbin.example.com" "10.244.1.20:8000" outbound|8000||httpbin.web.svc.cluster.local 10.244.0.12:48812 10.244.0.12:8080 ${remote}:53422 - -`;
    const file = (xff: string, remote: string) => readObservations(JSON.stringify({
      client: '203.0.113.77',
      nodes: ['10.0.0.0/16'],
      pods: ['10.244.0.0/16'],
      proxies: { alb: ['198.51.100.0/24'] },
      observations: [
        { hop: 'gateway', accessLog: line(xff, remote) },
        { hop: 'app', httpbin: { headers: { 'X-Forwarded-For': xff, 'X-Envoy-External-Address': remote } } },
      ],
    }), 'observations.yaml');
    // WHEN the cluster shows what the docs show, THEN ok; and with an undeclared proxy, the hop count is first
    expect(verifyManifests(chart.toJson(), file('203.0.113.77,10.0.3.17', '203.0.113.77')).ok).toBe(true);
    const bad = verifyManifests(chart.toJson(), file('203.0.113.77,192.0.2.44,10.0.3.17', '192.0.2.44'));
    expect(bad.ok).toBe(false);
    expect(bad.causes[0]).toMatchObject({ id: 'hop-count-plus-one', explains: 2, of: 2 });
  });
});

describe('verify on the command line', () => {
  const obs = `client: ${TETRATE_CLIENT}
nodes: [10.128.0.0/20]
observations:
- hop: app
  echoServer: |
${TEST_2.split('\n').map(l => `    ${l}`).join('\n')}
`;
  const local = docs(gatewayYaml({ etp: 'Local' }), workloadYaml('REDIRECT', 'echo-server', 'default'));
  const cluster = docs(gatewayYaml({ etp: 'Cluster' }), workloadYaml('REDIRECT', 'echo-server', 'default'));

  test('exits 0 when every observation matches', () => {
    const r = runCli(['verify', '--observations', 'obs.yaml', 'm.yaml'], { 'obs.yaml': obs, 'm.yaml': local });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/verdict: ok/);
  });

  test('exits 1 on a mismatch, with the causes ranked, in JSON too', () => {
    const r = runCli(['verify', '--json', '--observations=obs.yaml', 'm.yaml'], { 'obs.yaml': obs, 'm.yaml': cluster });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).causes[0].id).toBe('source-preserved');
  });

  test('fails with exit 2 without observations, on an unknown option, or an observation of no path', () => {
    expect(runCli(['verify', 'm.yaml'], { 'm.yaml': local }).code).toBe(2);
    expect(runCli(['verify', '--mermaid', '--observations', 'obs.yaml', 'm.yaml'], { 'obs.yaml': obs, 'm.yaml': local }).err).toMatch(/unknown option --mermaid for verify/);
    const r = runCli(['verify', '--observations', 'o.yaml', 'm.yaml'], { 'o.yaml': obs.replace('- hop: app', '- hop: app\n  path: nowhere'), 'm.yaml': local });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/path "nowhere" matches 0 paths/);
  });

  test('--help lists explain and verify', () => {
    const r = runCli(['--help'], {});
    expect(r.out).toMatch(/cdk8s-istio-source-ip explain/);
    expect(r.out).toMatch(/cdk8s-istio-source-ip verify --observations/);
  });
});
