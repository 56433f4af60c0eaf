import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { findManifest, manifestsOfKind, synthAndValidate } from './harness';
import { buildApp } from '../examples/multilang/typescript/main';

/*
 * The TypeScript twin of the Python, Go and Java consumer apps (examples/multilang). .ci/multilang.sh runs those apps
 * against the generated packages and compares their YAML with the twin's byte for byte; this test checks that the
 * twin itself is right, and that every consumer app still builds the same charts with the same inputs.
 */

const ROOT = path.resolve(__dirname, '..');
const CONSUMERS = [
  'examples/multilang/python/main.py',
  'examples/multilang/go/main.go',
  'examples/multilang/java/src/main/java/io/github/cdk8sistiosourceip/examples/Main.java',
];

function chartsOf(outdir: string): Map<string, any[]> {
  const app = buildApp(outdir);
  return new Map(app.charts.map((chart: Chart) => [chart.node.id, synthAndValidate(chart)]));
}

describe('multilang TypeScript twin', () => {
  let outdir: string;
  beforeEach(() => { outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'multilang-twin-')); });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('seed scenario 1: the gateway trusts 2 hops and the DENY is on remoteIpBlocks', () => {
    // GIVEN / WHEN
    const manifests = chartsOf(outdir).get('gateway-two-trusted-proxies')!;
    // THEN
    const gateway = findManifest(manifests, 'Deployment', 'ingressgateway');
    const config = JSON.parse(gateway.spec.template.metadata.annotations['proxy.istio.io/config']);
    expect(config.gatewayTopology.numTrustedProxies).toBe(2);
    const [deny] = manifestsOfKind(manifests, 'AuthorizationPolicy');
    expect(deny.spec.action).toBe('DENY');
    expect(deny.spec.rules).toEqual([{ from: [{ source: { remoteIpBlocks: ['198.51.100.0/24'] } }] }]);
    expect(manifests).toMatchSnapshot();
  });

  test('seed scenario 2: a TPROXY workload with an XffSidecarFilter trusting 1 hop', () => {
    // GIVEN / WHEN
    const manifests = chartsOf(outdir).get('tproxy-workload-xff-filter')!;
    // THEN
    const httpbin = findManifest(manifests, 'Deployment', 'httpbin');
    expect(httpbin.spec.template.metadata.annotations).toEqual({ 'sidecar.istio.io/interceptionMode': 'TPROXY' });
    const filter = findManifest(manifests, 'EnvoyFilter');
    expect(filter.metadata.namespace).toBe('web');
    expect(JSON.stringify(filter.spec)).toContain('"xff_num_trusted_hops":1');
    const allow = findManifest(manifests, 'AuthorizationPolicy');
    expect(allow.spec.rules[0].from).toEqual([{ source: { remoteIpBlocks: ['203.0.113.0/24'] } }]);
    expect(manifests).toMatchSnapshot();
  });

  test('synth writes one YAML file per chart, the files the consumer apps are compared on', () => {
    // GIVEN
    const app = buildApp(outdir);
    // WHEN
    app.synth();
    // THEN
    expect(fs.readdirSync(outdir).sort()).toEqual(['gateway-two-trusted-proxies.k8s.yaml', 'tproxy-workload-xff-filter.k8s.yaml']);
  });

  test.each(CONSUMERS)('%s builds the same charts from the same inputs', file => {
    // GIVEN the consumer app's source
    const source = fs.readFileSync(path.join(ROOT, file), 'utf-8');
    // THEN every id and value the twin uses appears in it (the YAML itself is compared by .ci/multilang.sh)
    for (const value of ['gateway-two-trusted-proxies', 'tproxy-workload-xff-filter', 'istio-ingress', 'httpbin.example.com',
      'httpbin.web.svc.cluster.local', '198.51.100.0/24', '203.0.113.0/24', 'docker.io/citizenstig/httpbin', '"cdn"', '"alb"']) {
      expect(source).toContain(value);
    }
  });
});
