import * as fs from 'fs';
import * as os from 'os';
import * as nodePath from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { docs, gatewayYaml, policyYaml, sidecarXffFilterYaml, workloadYaml } from './fixtures';
import { main } from '../../src/cli';
import { FindingSeverity, PathTrace } from '../../src/explain/explain-report';
import { Explainer } from '../../src/explain/explainer';
import { runCli } from '../harness/cli';

const CLIENT = '203.0.113.10';
const NODE = '10.0.0.4';
const GW_POD = '10.244.0.5';

const TWO_PROXIES = '[{"kind":"cdn","name":"cloudfront"},{"kind":"l7-load-balancer","name":"alb"}]';

function northSouth(report: { paths: PathTrace[] }): PathTrace {
  const p = report.paths.find(x => x.direction === 'north-south');
  if (!p) throw new Error('no north-south path');
  return p;
}
function hop(path: PathTrace, prefix: string) {
  const h = path.hops.find(x => x.hop.startsWith(prefix));
  if (!h) throw new Error(`no hop ${prefix} in ${path.hops.map(x => x.hop).join(', ')}`);
  return h;
}
function messages(path: PathTrace, severity: FindingSeverity): string[] {
  return path.findings.filter(f => f.severity === severity).map(f => f.message);
}

describe('seed scenarios', () => {
  test('externalTrafficPolicy Cluster: the gateway sees the node IP, flagged with the fix', () => {
    // GIVEN
    const report = Explainer.fromYaml(docs(gatewayYaml({ etp: 'Cluster' }), workloadYaml()));
    // WHEN
    const path = northSouth(report);
    // THEN
    expect(hop(path, 'gateway').socketPeer).toBe(NODE);
    expect(hop(path, 'gateway').clientAddress).toBe(NODE);
    expect(path.appHeaderClient).toBe(NODE);
    const error = path.findings.find(f => /externalTrafficPolicy Cluster/.test(f.message))!;
    expect(error.severity).toBe(FindingSeverity.ERROR);
    expect(error.fix).toMatch(/set externalTrafficPolicy: Local on Service ingressgateway/);
  });

  test('a Service without externalTrafficPolicy is Cluster (the Kubernetes default)', () => {
    const path = northSouth(Explainer.fromYaml(docs(gatewayYaml(), workloadYaml())));
    expect(hop(path, 'gateway').clientAddress).toBe(NODE);
  });

  test('externalTrafficPolicy Local: the gateway sees the client', () => {
    const path = northSouth(Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local' }), workloadYaml())));
    expect(hop(path, 'gateway').socketPeer).toBe(CLIENT);
    expect(hop(path, 'gateway').clientAddress).toBe(CLIENT);
    expect(path.appHeaderClient).toBe(CLIENT);
    expect(messages(path, FindingSeverity.ERROR)).toEqual([]);
  });

  test('REDIRECT: the app sees 127.0.0.6', () => {
    const report = Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local' }), workloadYaml('REDIRECT')));
    const eastWest = report.paths.find(p => p.direction === 'east-west')!;
    expect(northSouth(report).appSocketPeer).toBe('127.0.0.6');
    expect(eastWest.appSocketPeer).toBe('127.0.0.6');
    expect(eastWest.findings[0].fix).toMatch(/interceptionMode: TPROXY/);
  });

  test('TPROXY: the app sees the peer pod IP (the gateway pod behind a gateway)', () => {
    const report = Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local' }), workloadYaml('TPROXY')));
    const eastWest = report.paths.find(p => p.direction === 'east-west')!;
    expect(eastWest.appSocketPeer).toBe('10.244.2.9');
    expect(northSouth(report).appSocketPeer).toBe(GW_POD);
    expect(northSouth(report).findings.map(f => f.fix).join()).toMatch(/read X-Envoy-External-Address \(203\.0\.113\.10\)/);
  });

  test('two trusted proxies: the gateway picks the second XFF entry from the right, the sidecar the same with hops 2', () => {
    // GIVEN CDN -> ALB -> gateway with numTrustedProxies 2 and a sidecar filter with 2 hops
    const yaml = docs(
      gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"numTrustedProxies":2}}', podAnnotations: { 'source-ip.cdk8s.io/trust-chain': TWO_PROXIES } }),
      workloadYaml(), sidecarXffFilterYaml(2),
      policyYaml('office', 'web', '{ app: httpbin }', 'remoteIpBlocks', ['203.0.113.0/24']));
    // WHEN
    const path = northSouth(Explainer.fromYaml(yaml));
    // THEN
    const gw = hop(path, 'gateway');
    expect(gw.xForwardedFor).toBe(`${CLIENT},198.51.100.11`);
    expect(gw.clientAddress).toBe(CLIENT);
    const sidecar = hop(path, 'sidecar');
    expect(sidecar.clientAddress).toBe(CLIENT);
    expect(sidecar.policies).toEqual([expect.objectContaining({ policy: 'web/office', field: 'remoteIpBlocks', address: CLIENT, matches: true })]);
    expect(messages(path, FindingSeverity.ERROR)).toEqual([]);
  });

  test('two proxies but numTrustedProxies 1: the gateway resolves the CDN address', () => {
    const path = northSouth(Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"numTrustedProxies":1}}', podAnnotations: { 'source-ip.cdk8s.io/trust-chain': TWO_PROXIES } }), workloadYaml())));
    expect(hop(path, 'gateway').clientAddress).toBe('198.51.100.11');
    expect(messages(path, FindingSeverity.ERROR).join()).toMatch(/numTrustedProxies 1 is lower than the hops that append to X-Forwarded-For \(2\)/);
  });

  test('one proxy but numTrustedProxies 2: spoofable', () => {
    const path = northSouth(Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local', proxyConfig: 'gatewayTopology: {numTrustedProxies: 2}', podAnnotations: { 'source-ip.cdk8s.io/trust-chain': '[{"kind":"l7-load-balancer"}]' } }), workloadYaml())));
    const spoof = path.findings.find(f => /spoofable/.test(f.message))!;
    expect(spoof.severity).toBe(FindingSeverity.ERROR);
    expect(spoof.fix).toMatch(/set numTrustedProxies to 1/);
  });

  test('sidecar default behind two proxies: remoteIpBlocks match the gateway peer, flagged', () => {
    const path = northSouth(Explainer.fromYaml(docs(
      gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"numTrustedProxies":2}}', podAnnotations: { 'source-ip.cdk8s.io/trust-chain': TWO_PROXIES } }),
      workloadYaml(), policyYaml('office', 'web', '{ app: httpbin }', 'remoteIpBlocks', ['203.0.113.0/24']))));
    expect(hop(path, 'sidecar').clientAddress).toBe('198.51.100.12');
    expect(path.findings.find(f => /remoteIpBlocks in web\/office match 198\.51\.100\.12/.test(f.message))?.fix).toMatch(/xff_num_trusted_hops 2/);
  });

  test('PROXY protocol from the load balancer: remote.ip is the client even under Cluster; ipBlocks sees the node', () => {
    const path = northSouth(Explainer.fromYaml(docs(
      gatewayYaml({ etp: 'Cluster', proxyConfig: '{"gatewayTopology":{"proxyProtocol":{}}}', serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' } }),
      workloadYaml(),
      policyYaml('office-l4', 'istio-ingress', '{ istio: ingressgateway }', 'ipBlocks', ['203.0.113.0/24']),
      policyYaml('office', 'istio-ingress', '{ istio: ingressgateway }', 'remoteIpBlocks', ['203.0.113.0/24']))));
    const gw = hop(path, 'gateway');
    expect(gw.proxyProtocolSource).toBe(CLIENT);
    expect(gw.clientAddress).toBe(CLIENT);
    expect(gw.policies.map(p => [p.field, p.address, p.matches])).toEqual([['ipBlocks', NODE, false], ['remoteIpBlocks', CLIENT, true]]);
    expect(messages(path, FindingSeverity.ERROR)).toEqual([]);
  });

  test('PROXY from the load balancer without gateway support: broken, flagged', () => {
    const path = northSouth(Explainer.fromYaml(docs(gatewayYaml({ etp: 'Local', serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' } }), workloadYaml())));
    expect(messages(path, FindingSeverity.ERROR).join()).toMatch(/sends PROXY protocol but the gateway does not accept it/);
  });

  test('TCP servers: no headers, the client only survives as the packet source', () => {
    const report = Explainer.fromYaml(docs(gatewayYaml({ etp: 'Cluster', servers: '  - port: { number: 5432, name: tcp, protocol: TCP }\n    hosts: ["*"]' }), workloadYaml()));
    const path = northSouth(report);
    expect(path.protocol).toBe('TCP');
    expect(hop(path, 'gateway').xForwardedFor).toBeUndefined();
    expect(hop(path, 'gateway').clientAddress).toBe(NODE);
  });

  test('in-mesh callers can forge remote.ip on a sidecar', () => {
    const report = Explainer.fromYaml(docs(workloadYaml(), policyYaml('office', 'web', '{ app: httpbin }', 'remoteIpBlocks', ['203.0.113.0/24'])));
    expect(report.paths).toHaveLength(1);
    // Through the gateway the policy matches the client; a direct in-mesh caller can forge it: a WARNING that says so.
    expect(report.paths[0].findings.find(f => /^forgeable from inside the mesh: .* a pod that calls the workload directly chooses remote.ip/.test(f.message))?.severity)
      .toBe(FindingSeverity.WARNING);
  });

  test('manifest problems become findings, not exceptions', () => {
    const report = Explainer.fromYaml(docs(
      gatewayYaml({ podAnnotations: { 'source-ip.cdk8s.io/trust-chain': '[{"kind":"satellite"}]' } }),
      workloadYaml('tproxy'),
      policyYaml('bad', 'web', '{ app: httpbin }', 'ipBlocks', ['203.0.113.1/24', '010.0.0.1'])));
    const text = report.findings.map(f => f.message).join('\n');
    expect(text).toMatch(/trust-chain cannot be read: hops\[0\]\.kind "satellite" is unknown/);
    expect(text).toMatch(/interceptionMode "tproxy" is not allowed/);
    expect(text).toMatch(/"203.0.113.1\/24" has host bits set; istiod treats it as 203.0.113.0\/24/);
    expect(text).toMatch(/010\.0\.0\.1/);
    expect(report.hasErrors).toBe(true);
  });

  test('table, JSON and Mermaid renderings', () => {
    const report = Explainer.fromYaml(docs(gatewayYaml({ etp: 'Cluster' }), workloadYaml(), policyYaml('office', 'istio-ingress', '{ istio: ingressgateway }', 'ipBlocks', ['203.0.113.0/24'])));
    expect(report.toTable()).toMatchSnapshot();
    expect(JSON.parse(report.toJson()).paths).toHaveLength(2);
    expect(report.toMermaid()).toMatch(/^flowchart LR\n/);
    expect(report.toMermaid()).toContain('remote.ip 10.0.0.4');
    // The table ends with the topology check on the policy: ipBlocks behind a Cluster Service sees node IPs.
    expect(report.findings).toEqual([expect.objectContaining({ severity: FindingSeverity.ERROR, where: 'AuthorizationPolicy istio-ingress/office' })]);
    expect(report.toTable()).toMatch(/manifest findings:\n {2}ERROR AuthorizationPolicy istio-ingress\/office: field ipBlocks cannot match clients/);
  });

  test('empty input', () => {
    expect(Explainer.fromManifests([]).toTable()).toBe('no gateways or meshed workloads found\n');
  });
});

describe('fromApp', () => {
  test('explains a cdk8s app built from L1/ApiObjects', () => {
    // GIVEN an app whose chart holds hand-written objects
    const app = Testing.app();
    const chart = new Chart(app, 'scenario');
    const yamlDocs = YAML.parseAllDocuments(docs(gatewayYaml({ etp: 'Local' }), workloadYaml('TPROXY')));
    yamlDocs.forEach((d: any, i: number) => {
      const o = d.toJS();
      new ApiObject(chart, `o${i}`, o);
    });
    // WHEN
    const report = Explainer.fromApp(app as App);
    // THEN
    expect(northSouth(report).appSocketPeer).toBe(GW_POD);
    expect(hop(northSouth(report), 'gateway').clientAddress).toBe(CLIENT);
  });
});

describe('cli', () => {
  const files = { 'a.yaml': docs(gatewayYaml({ etp: 'Cluster' })), 'b.yaml': docs(workloadYaml('TPROXY')) };

  test('explain prints a table over several files', () => {
    const r = runCli(['explain', 'a.yaml', 'b.yaml'], files);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/north-south: gateway istio-ingress\/ingressgateway -> workload web\/httpbin \[HTTP\]/);
    expect(r.out).toMatch(/externalTrafficPolicy Cluster/);
  });

  test('--json and --mermaid', () => {
    expect(JSON.parse(runCli(['explain', '--json', 'a.yaml'], files).out).paths[0].hops.length).toBeGreaterThan(2);
    expect(runCli(['explain', '--mermaid', 'a.yaml'], files).out).toMatch(/^flowchart LR/);
  });

  test('--fail-on-error exits 1 when the report has errors', () => {
    expect(runCli(['explain', '--fail-on-error', 'a.yaml'], files).code).toBe(1);
    expect(runCli(['explain', '--fail-on-error', 'b.yaml'], files).code).toBe(0);
  });

  test.each([
    [[], /usage: cdk8s-istio-source-ip explain/],
    [['synth'], /unknown command "synth"/],
    [['explain'], /no manifest files given/],
    [['explain', '--xml', 'a.yaml'], /unknown option --xml/],
    [['explain', '--json', '--mermaid', 'a.yaml'], /cannot be combined/],
    [['explain', 'missing.yaml'], /cannot read manifests: missing.yaml: no such file/],
  ])('bad usage %j exits 2 with a message', (argv, message) => {
    const r = runCli(argv as string[], files);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('explain reads a directory: its .yaml and .yml files, subdirectories too, sorted by path', () => {
    // GIVEN what cdk8s synth writes with one folder per chart, and a file that is not a manifest
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'explain-dir-'));
    fs.mkdirSync(nodePath.join(dir, 'sub'));
    fs.writeFileSync(nodePath.join(dir, 'sub', 'a.yml'), files['a.yaml']);
    fs.writeFileSync(nodePath.join(dir, 'b.yaml'), files['b.yaml']);
    fs.writeFileSync(nodePath.join(dir, 'construct-metadata.json'), '{"version":"1.0.0"}');
    const readFile = (p: string) => fs.readFileSync(p, 'utf8');
    // WHEN
    let out = '';
    main(['explain', '--json', dir], { out: t => { out += t; }, err: t => { out += t; }, readFile });
    let expected = '';
    main(['explain', '--json', nodePath.join(dir, 'b.yaml'), nodePath.join(dir, 'sub', 'a.yml')], { out: t => { expected += t; }, err: t => { expected += t; }, readFile });
    process.exitCode = 0;
    fs.rmSync(dir, { recursive: true, force: true });
    // THEN
    expect(out).toBe(expected);
    expect(JSON.parse(out).paths[0].title).toMatch(/gateway istio-ingress\/ingressgateway -> workload web\/httpbin/);
  });

  test('invalid YAML exits 2 naming the file', () => {
    const r = runCli(['explain', 'x.yaml'], { 'x.yaml': 'kind: [unclosed' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/x\.yaml: document 1 is not valid YAML/);
  });

  test('--help prints usage and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--mermaid/);
  });
});

describe('VirtualService routing', () => {
  test('only workloads a bound VirtualService routes to are traced behind the gateway', () => {
    // GIVEN two workloads, a Service for one, and a VirtualService on the gateway routing to it
    const yaml = docs(gatewayYaml({ etp: 'Local' }), workloadYaml(undefined, 'httpbin'), workloadYaml(undefined, 'other'), `
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: web }
spec: { selector: { app: httpbin }, ports: [{ port: 8000, targetPort: 8080 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin, namespace: web }
spec:
  hosts: ["*"]
  gateways: [istio-ingress/web]
  http:
  - route:
    - destination: { host: httpbin.web.svc.cluster.local, port: { number: 8000 } }
`);
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    expect(report.paths.filter(p => p.direction === 'north-south').map(p => p.title)).toEqual(['north-south: gateway istio-ingress/ingressgateway -> workload web/httpbin']);
    expect(report.paths.filter(p => p.direction === 'east-west')).toHaveLength(2);
  });
});

describe('more EnvoyFilter shapes', () => {
  const variableCdn = '[{"kind":"cdn","name":"edge","variableHops":true,"cidrs":["198.51.100.0/25"]},{"kind":"l4-passthrough","name":"nlb"}]';
  const trustedCidrsFilter = `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: httpbin-xff-cidrs, namespace: web }
spec:
  workloadSelector: { labels: { app: httpbin } }
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      listener: { filterChain: { filter: { name: envoy.filters.network.http_connection_manager } } }
    patch:
      operation: MERGE
      value:
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          original_ip_detection_extensions:
          - name: envoy.http.original_ip_detection.xff
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
              xff_trusted_cidrs:
                cidrs:
                - { address_prefix: 198.51.100.0, prefix_len: 25 }
                - { address_prefix: 10.0.0.0, prefix_len: 8 }
`;

  test('variable CDN paths: the gateway resolves a CDN address (warned), the sidecar with xff_trusted_cidrs the client', () => {
    const path = northSouth(Explainer.fromYaml(docs(
      gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"numTrustedProxies":1}}', podAnnotations: { 'source-ip.cdk8s.io/trust-chain': variableCdn } }),
      workloadYaml(), trustedCidrsFilter)));
    expect(hop(path, 'gateway').xForwardedFor).toBe(`${CLIENT},198.51.100.1`);
    expect(hop(path, 'gateway').clientAddress).toBe('198.51.100.1');
    expect(path.findings.find(f => /variable CDN paths/.test(f.message))?.fix).toMatch(/xff_trusted_cidrs \[198\.51\.100\.0\/25\]/);
    expect(hop(path, 'sidecar').clientAddress).toBe(CLIENT);
    expect(hop(path, 'sidecar').note).toMatch(/trusted-cidrs/);
    expect(messages(path, FindingSeverity.ERROR)).toEqual([]);
  });

  test('optional PROXY protocol via an EnvoyFilter listener filter, and double PROXY is an error', () => {
    const listenerFilter = `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: gw-pp, namespace: istio-ingress }
spec:
  workloadSelector: { labels: { istio: ingressgateway } }
  configPatches:
  - applyTo: LISTENER_FILTER
    match: { context: GATEWAY, listener: { portNumber: 80 } }
    patch:
      operation: INSERT_FIRST
      value:
        name: envoy.filters.listener.proxy_protocol
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
          allow_requests_without_proxy_protocol: true
`;
    const pp = { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' };
    const ok = northSouth(Explainer.fromYaml(docs(gatewayYaml({ etp: 'Cluster', serviceAnnotations: pp }), workloadYaml(), listenerFilter)));
    expect(hop(ok, 'gateway').clientAddress).toBe(CLIENT);
    expect(messages(ok, FindingSeverity.ERROR)).toEqual([]);
    const twice = northSouth(Explainer.fromYaml(docs(
      gatewayYaml({ etp: 'Cluster', serviceAnnotations: pp, proxyConfig: '{"gatewayTopology":{"proxyProtocol":{}}}' }), workloadYaml(), listenerFilter)));
    expect(messages(twice, FindingSeverity.ERROR).join()).toMatch(/parsed twice/);
  });

  test('ambient namespace: remoteIpBlocks on ztunnel is an error', () => {
    const report = Explainer.fromYaml(docs(
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { istio.io/dataplane-mode: ambient } }',
      gatewayYaml({ etp: 'Local' }), workloadYaml(),
      policyYaml('office', 'web', '{ app: httpbin }', 'remoteIpBlocks', ['203.0.113.0/24'])));
    const path = northSouth(report);
    expect(hop(path, 'ztunnel').socketPeer).toBe(GW_POD);
    expect(messages(path, FindingSeverity.ERROR).join()).toMatch(/not supported by ztunnel/);
  });
});
