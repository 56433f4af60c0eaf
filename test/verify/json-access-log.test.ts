import { Testing } from 'cdk8s';
import { ClientAddressAccessLog, ExternalTrafficPolicy, PreservedIngressGateway, TproxyWorkload, WorkloadSource } from '../../src';
import { parseAccessLogLine, readObservations } from '../../src/verify/observations';
import { verifyManifests, VerifyReport } from '../../src/verify/verifier';

/*
 * verify reads the JSON access-log format of ClientAddressAccessLog.meshConfigProvider(), as `kubectl logs` prints it
 * (with or without the --prefix pod name), and compares the client-address header at every hop and at the app.
 */

const CLIENT = '198.51.100.23';
const NODE = '10.128.0.54';
const GATEWAY_POD = '10.32.2.5';
const HTTPBIN_POD = '10.32.1.123';

/** A line of the JSON format (the provider's labels, in Envoy's key order), as `kubectl logs --prefix` prints it. */
interface LineFields {
  readonly remote: string;
  readonly direct: string;
  readonly xff: string | null;
  readonly external: string | null;
  readonly header: string | null;
  readonly upstream: string;
}

function jsonLine(pod: string, fields: LineFields): string {
  const line = {
    start_time: '2026-12-06T05:00:00.000Z',
    method: 'GET',
    path: '/headers',
    response_code: 200,
    downstream_remote_address: fields.remote,
    downstream_direct_remote_address: fields.direct,
    x_forwarded_for: fields.xff,
    x_envoy_external_address: fields.external,
    upstream_host: fields.upstream,
    authority: 'httpbin.example.com',
    client_address_header: fields.header,
  };
  return `[pod/${pod}/istio-proxy] ${JSON.stringify(line)}`;
}

/** The app: a gateway that writes x-real-ip in front of httpbin, both logging in the JSON format. */
function cluster(externalTrafficPolicy: ExternalTrafficPolicy): any[] {
  const chart = Testing.chart();
  const gateway = new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy });
  gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
  gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
  gateway.clientAddressHeader({ name: 'x-real-ip' });
  const httpbin = new TproxyWorkload(chart, 'Httpbin', {
    source: WorkloadSource.newDeployment({ image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin' } }),
  });
  new ClientAddressAccessLog(chart, 'AccessLog', { targets: [gateway, httpbin] });
  return Testing.synth(chart);
}

/** What the cluster showed when the gateway saw `seen` (the client with Local, a node with Cluster). */
function observed(seen: string, prefix = true) {
  const strip = (line: string) => (prefix ? line : line.replace(/^\[pod\/[^\]]+\] /, ''));
  const gateway = strip(jsonLine('ingressgateway-7c9d-x2x7k', { remote: `${seen}:53422`, direct: `${seen}:53422`, xff: seen, external: seen, header: seen, upstream: `${HTTPBIN_POD}:8000` }));
  const sidecar = strip(jsonLine('httpbin-5f7b-k8s2p', { remote: `${seen}:0`, direct: `${GATEWAY_POD}:41234`, xff: seen, external: seen, header: seen, upstream: `${HTTPBIN_POD}:8000` }));
  return readObservations(JSON.stringify({
    client: CLIENT,
    nodes: ['10.128.0.0/20'],
    pods: ['10.32.0.0/14'],
    observations: [
      { hop: 'gateway', accessLog: gateway },
      { hop: 'sidecar', accessLog: sidecar },
      { hop: 'app', httpbin: { headers: { 'X-Forwarded-For': seen, 'X-Envoy-External-Address': seen, 'X-Real-Ip': seen, 'Host': 'httpbin.example.com' } } },
    ],
  }), 'observations.yaml');
}

function verdicts(report: VerifyReport): string[] {
  return report.observations.map(o => `${o.hop}: ${o.verdict}`);
}

describe('verify reads the JSON access-log format', () => {
  test('a JSON line with and without the kubectl --prefix pod name gives the same fields', () => {
    // GIVEN
    const line = jsonLine('ingressgateway-7c9d-x2x7k', { remote: `${CLIENT}:53422`, direct: `${NODE}:53422`, xff: `${CLIENT},${NODE}`, external: null, header: CLIENT, upstream: '-' });
    // WHEN
    const fields = parseAccessLogLine(line);
    // THEN the port is dropped, X-Forwarded-For is a list, and null is "absent"
    expect(fields).toEqual({ clientAddress: CLIENT, forwardedFor: [CLIENT, NODE], externalAddress: null, clientHeader: CLIENT });
    expect(parseAccessLogLine(line.replace(/^\[pod\/[^\]]+\] /, ''))).toEqual(fields);
    // A "-" (Envoy's text placeholder) is absent too, and a line without the header field does not show it
    expect(parseAccessLogLine('{"downstream_remote_address":"-","x_forwarded_for":"-"}')).toEqual({ clientAddress: null, forwardedFor: null });
  });

  test('matching cluster (externalTrafficPolicy Local): every hop, the header at each hop and at the app, ok', () => {
    // GIVEN the manifests say Local, and the cluster's logs show the client at the gateway
    const report = verifyManifests(cluster(ExternalTrafficPolicy.LOCAL), observed(CLIENT));
    // THEN
    expect(verdicts(report)).toEqual(['gateway istio-ingress/ingressgateway: ok', 'sidecar TPROXY: ok', 'app: ok']);
    const fields = report.observations.flatMap(o => o.fields.map(f => `${o.hop} ${f.field}: ${f.predicted}`));
    expect(fields).toEqual(expect.arrayContaining([
      'gateway istio-ingress/ingressgateway client-address header x-real-ip: client',
      'sidecar TPROXY client-address header x-real-ip: client',
      'app client-address header x-real-ip: client',
      'gateway istio-ingress/ingressgateway X-Envoy-External-Address: client',
    ]));
    // The same lines without the pod name prefix verify alike
    expect(verdicts(verifyManifests(cluster(ExternalTrafficPolicy.LOCAL), observed(CLIENT, false)))).toEqual(verdicts(report));
    expect(report.causes).toEqual([]);
  });

  test('mismatching cluster (the Service runs with Cluster): the node in every field, source-not-preserved ranked first', () => {
    // GIVEN the manifests say Local, but the cluster's logs show a node at the gateway and in x-real-ip
    const report = verifyManifests(cluster(ExternalTrafficPolicy.LOCAL), observed(NODE));
    // THEN every observation is a mismatch, the header's field names what it saw, and the cause is the lost source
    expect(verdicts(report)).toEqual(['gateway istio-ingress/ingressgateway: mismatch', 'sidecar TPROXY: mismatch', 'app: mismatch']);
    expect(report.observations[2].fields.find(f => f.field === 'client-address header x-real-ip'))
      .toEqual({ field: 'client-address header x-real-ip', predicted: 'client', observed: `${NODE} (node)`, ok: false });
    expect(report.causes[0].id).toBe('source-not-preserved');
    expect(report.causes[0].explains).toBe(3);
  });

  test('an app that got a header the gateway did not write (the header forged past the gateway) is a mismatch of that field only', () => {
    // GIVEN the app's x-real-ip is not what the gateway resolved
    const set = observed(CLIENT);
    const app = set.observations[2];
    const forged = { ...set, observations: [{ ...app, fields: { ...app.fields, headers: { ...app.fields.headers, 'x-real-ip': '192.0.2.66' } } }] };
    // WHEN
    const report = verifyManifests(cluster(ExternalTrafficPolicy.LOCAL), forged);
    // THEN
    expect(report.observations[0].fields.filter(f => !f.ok).map(f => f.field)).toEqual(['client-address header x-real-ip']);
  });

  test('an app without the header the gateway should write: the writer not applied is ranked first', () => {
    // GIVEN the cluster's httpbin answer has no X-Real-Ip (the VirtualService with the header is not applied)
    const set = observed(CLIENT);
    const app = set.observations[2];
    const { 'x-real-ip': _dropped, ...headers } = app.fields.headers!;
    const missing = { ...set, observations: [...set.observations.slice(0, 2), { ...app, fields: { ...app.fields, headers } }] };
    // WHEN
    const report = verifyManifests(cluster(ExternalTrafficPolicy.LOCAL), missing);
    // THEN only the app's header differs, and the cause is the writer that is not applied
    expect(verdicts(report)).toEqual(['gateway istio-ingress/ingressgateway: ok', 'sidecar TPROXY: ok', 'app: mismatch']);
    expect(report.observations[2].fields.filter(f => !f.ok)).toEqual([{ field: 'client-address header x-real-ip', predicted: 'client', observed: 'none', ok: false }]);
    expect(report.causes[0].id).toBe('client-address-header-not-written');
  });
});
