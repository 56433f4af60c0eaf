import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { docs, gatewayYaml, policyYaml, sidecarXffFilterYaml, workloadYaml } from './fixtures';
import { Explainer, ExplainReport, FindingSeverity } from '../../src';
import { main } from '../../src/cli';
import { readFromMap, runCliWith } from '../harness/cli';

/*
 * Regression tests for explain on real and hostile input: values of the wrong type or out of range are findings,
 * unreadable input is a clean error (exit 2) naming the file and document, no input value makes the work or the
 * output grow without bound, names are escaped in the table and Mermaid, and every object not used is listed.
 */


function messages(report: ExplainReport): string[] {
  return report.allFindings().map(f => `${f.severity} ${f.where}: ${f.message}`);
}

const gatewayWithHops = (hops: string) => gatewayYaml({ etp: 'Local', proxyConfig: `{"gatewayTopology":{"numTrustedProxies":${hops}}}` });

describe('values explain reads are checked like construct props', () => {
  test.each([
    ['a fraction', '1.5'],
    ['negative', '-1'],
    ['a string', '"two"'],
    ['a list', '[1]'],
  ])('numTrustedProxies %s in the proxy.istio.io/config annotation is a finding, not a crash', (_, value) => {
    // GIVEN a gateway whose annotation has a bad numTrustedProxies
    const yaml = docs(gatewayWithHops(value));
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN the finding names the field and the value, and the gateway is still traced
    expect(messages(report)).toContainEqual(expect.stringMatching(new RegExp(`^error gateway istio-ingress/ingressgateway: proxy.istio.io/config gatewayTopology.numTrustedProxies ${value.replace(/[[\]]/g, '\\$&')} is not allowed: use a whole number from 0 to 4294967295`)));
    expect(report.paths.length).toBeGreaterThan(0);
  });

  test('numTrustedProxies 1000000000 is reported as impossible and traced without drawing the hops', () => {
    // GIVEN
    const yaml = docs(gatewayWithHops('1000000000'), workloadYaml());
    // WHEN
    const started = Date.now();
    const report = Explainer.fromYaml(yaml);
    const json = report.toJson();
    // THEN
    expect(messages(report)).toContainEqual(expect.stringMatching(/numTrustedProxies 1000000000 is more than the 64 proxies any real chain has/));
    expect(Math.max(...report.paths.map(p => p.hops.length))).toBeLessThan(10);
    expect(json.length).toBeLessThan(100_000);
    expect(Date.now() - started).toBeLessThan(5000); // was: out of memory after 45 s
  });

  test('a fractional xff_num_trusted_hops in an EnvoyFilter is a finding on the filter; the rest is traced', () => {
    // GIVEN
    const yaml = docs(gatewayYaml({ etp: 'Local' }), workloadYaml(), sidecarXffFilterYaml(1.5 as number));
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    expect(messages(report)).toContainEqual(expect.stringMatching(/^error EnvoyFilter web\/httpbin-xff \(input document 5\): spec.configPatches\[0\].patch.value.typed_config.xff_num_trusted_hops 1.5 is not allowed: use a whole number/));
    expect(report.paths.some(p => p.title.includes('east-west'))).toBe(true);
  });

  test('an unknown match.context and a bad portNumber are findings that name the patch', () => {
    // GIVEN
    const filter = sidecarXffFilterYaml(1).replace('context: SIDECAR_INBOUND', 'context: sidecar_inbound').replace('portNumber: 8080', 'portNumber: 0');
    // WHEN
    const report = Explainer.fromYaml(docs(workloadYaml(), filter));
    // THEN
    expect(messages(report)).toContainEqual(expect.stringMatching(/spec.configPatches\[0\].match.context "sidecar_inbound" is not allowed: use one of ANY, SIDECAR_INBOUND/));
  });

  test('a bad Gateway server port leaves that server out with a finding', () => {
    // GIVEN
    const yaml = docs(gatewayYaml({ etp: 'Local', servers: '  - port: { number: 99999, name: http, protocol: HTTP }\n    hosts: ["*"]' }));
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    expect(messages(report)).toContainEqual(expect.stringMatching(/^error Gateway istio-ingress\/web \(input document 3\): spec.servers\[0\].port.number 99999 is not allowed/));
  });

  test('an EnvoyFilter without match.context is used (Istio reads it as ANY) with a warning', () => {
    // GIVEN
    const filter = sidecarXffFilterYaml(1).replace('      context: SIDECAR_INBOUND\n', '');
    // WHEN
    const report = Explainer.fromYaml(docs(workloadYaml(), filter));
    // THEN
    expect(messages(report)).toContainEqual(expect.stringMatching(/^warning EnvoyFilter web\/httpbin-xff \(input document 2\): no configPatch sets match.context/));
  });
});

describe('unreadable input is a clean error naming the file and document (exit 2)', () => {
  test('fails on a directory without manifest files, naming it', () => {
    // GIVEN a real directory with no .yaml or .yml file
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'explain-dir-'));
    fs.writeFileSync(path.join(dir, 'construct-metadata.json'), '{}');
    // WHEN
    const r = runCliWith(['explain', dir], p => fs.readFileSync(p, 'utf8'));
    // THEN
    expect(r.code).toBe(2);
    expect(r.err).toBe(`cannot read manifests: ${dir}: is a directory without .yaml or .yml files: give the directory cdk8s synth writes to (e.g. dist) or the manifest files\n`);
  });

  test('binary input is refused without echoing it', () => {
    // GIVEN bytes that are not text, with terminal escapes among them
    const binary = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x1b, 0x5d, 0x32, 0x4a, 0xff, 0xfe]).toString('utf8');
    // WHEN
    const r = runCliWith(['explain', 'x.gz'], readFromMap({ 'x.gz': binary }));
    // THEN
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cannot read manifests: x\.gz: is not text: it has bytes that are not UTF-8 at character 1; give YAML or JSON manifests \(binary content is not shown\)\n$/);
    expect(r.err).not.toContain('\u001b');
  });

  test('a UTF-16 file is told apart from binary data', () => {
    const utf16 = Buffer.from([0xff, 0xfe, 0x6b, 0x00, 0x69, 0x00]).toString('utf8');
    const r = runCliWith(['explain', 'w.yaml'], readFromMap({ 'w.yaml': utf16 }));
    expect(r.code).toBe(2);
    expect(r.err).toBe('cannot read manifests: w.yaml: is not UTF-8: it starts with a UTF-16 byte-order mark; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)\n');
  });

  test.each([
    ['block mappings', 'a:\n' + Array.from({ length: 300 }, (_, i) => `${' '.repeat(2 * (i + 1))}b:`).join('\n') + ' 1\n'],
    ['flow lists', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['JSON', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)],
  ])('deeply nested %s are "too deeply nested", naming the file and the document', (_, text) => {
    // GIVEN a first valid document, then the deep one
    const r = runCliWith(['explain', 'deep.yaml'], readFromMap({ 'deep.yaml': text.startsWith('{') ? text : `kind: ConfigMap\n---\n${text}` }));
    // THEN
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^cannot read manifests: deep\\.yaml: document ${text.startsWith('{') ? 1 : 2} is too deeply nested`));
  });

  test('invalid YAML names the file, the document, the line and the column', () => {
    const r = runCliWith(['explain', 'x.yaml'], readFromMap({ 'x.yaml': 'kind: ConfigMap\n---\nkind: [unclosed\n' }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cannot read manifests: x\.yaml: document 2 is not valid YAML at line \d+, column \d+: /);
  });

  test('fails with an escaped message when the YAML parser quotes a bidi override from the input (found by the property suite)', () => {
    // GIVEN an alias whose name carries a right-to-left override
    const yaml = 'apiVersion: v1\nkind: Service\nmetadata: { name: *\u202Ea1 }';
    // THEN the input error names the alias with the override escaped, never raw
    expect(() => Explainer.fromYaml(yaml)).toThrow(/unidentified alias .*\\u202E/);
    expect(() => Explainer.fromYaml(yaml)).not.toThrow(/\u202E/);
  });

  test('a valid List with 150 aliases to one anchor is accepted', () => {
    // GIVEN a List whose items share labels through an anchor
    const items = Array.from({ length: 150 }, (_, i) => `- { apiVersion: v1, kind: Service, metadata: { name: s${i}, namespace: web, labels: *labels }, spec: { selector: { app: httpbin } } }`);
    const yaml = `apiVersion: v1\nkind: List\nmetadata: { labels: &labels { team: web } }\nitems:\n${items.join('\n')}\n`;
    // WHEN
    const r = runCliWith(['explain', 'list.yaml'], readFromMap({ 'list.yaml': yaml }));
    // THEN
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  test('a JSON array of objects (chart.toJson() saved to a file) is read item by item', () => {
    // GIVEN
    const json = JSON.stringify([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'web' } }, 'stray']);
    // WHEN
    const report = Explainer.fromYaml(json);
    // THEN each item is its own object, named by its position
    expect(report.skipped.map(s => [s.object, s.source])).toEqual([['ConfigMap web/c', 'input document 1, List item 0'], ['document string "stray"', 'input document 1, List item 1']]);
  });

  test('aliases that expand without bound (a billion laughs) are refused by expanded size', () => {
    // GIVEN nine levels of ten aliases each: 10^9 values once expanded
    const levels = ['a: &a0 ["lol"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)];
    const r = runCliWith(['explain', 'bomb.yaml'], readFromMap({ 'bomb.yaml': levels.join('\n') + '\n' }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cannot read manifests: bomb\.yaml: document 1 expands through YAML aliases to more than \d+ values/);
  });

  test('a document that is not a map is skipped naming the document, and the rest of the file is read (as kubectl does)', () => {
    // GIVEN a scalar between two objects
    const r = runCliWith(['explain', 's.yaml'], readFromMap({ 's.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n---\njust a string\n---\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n' }));
    // THEN
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('SKIPPED document string "just a string" (s.yaml document 2): not a Kubernetes object (a map with apiVersion and kind)');
  });

  test('a long scalar document is cut between words and keeps its closing quote', () => {
    // GIVEN
    const words = 'the quick brown fox jumps over the lazy dog and keeps on running far beyond the fence line';
    // WHEN
    const report = Explainer.fromYaml(`${words}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n`);
    // THEN
    expect(report.skipped[0].object).toBe('document string "the quick brown fox jumps over the lazy dog and keeps on running far..."');
    expect(report.skipped.map(s => s.object)).toEqual([expect.any(String), 'ConfigMap default/c']);
  });

  test('an alias inside its own anchor is refused', () => {
    const r = runCliWith(['explain', 'loop.yaml'], readFromMap({ 'loop.yaml': 'a: &x [*x]\n' }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cannot read manifests: loop\.yaml: document 1 contains itself through a YAML alias/);
  });

  test('a failure inside explain is one line on stderr and exit 2, never a stack trace or exit 1', () => {
    // GIVEN an output stream that fails
    let err = '';
    main(['explain', 'a.yaml'], { out: () => { throw new Error('EPIPE: broken pipe'); }, err: t => { err += t; }, readFile: readFromMap({ 'a.yaml': docs(gatewayYaml()) }) });
    const code = process.exitCode;
    process.exitCode = 0;
    // THEN
    expect(code).toBe(2);
    expect(err).toBe('explain failed: EPIPE: broken pipe\n');
  });

  test('exit codes: 0 without errors, 1 with errors and --fail-on-error, 2 for unreadable input', () => {
    const inputs = readFromMap({ 'ok.yaml': docs(workloadYaml('TPROXY')), 'bad.yaml': docs(gatewayYaml({ etp: 'Cluster' })), 'x.yaml': '\u0000' });
    expect(runCliWith(['explain', '--fail-on-error', 'ok.yaml'], inputs).code).toBe(0);
    expect(runCliWith(['explain', '--fail-on-error', 'bad.yaml'], inputs).code).toBe(1);
    expect(runCliWith(['explain', '--fail-on-error', 'x.yaml'], inputs).code).toBe(2);
  });
});

describe('output is terminal- and Markdown-safe; JSON is exact', () => {
  const evil = 'web\u202Egnp.exe\nINFO all good\u0007';
  const objects = [{
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: evil, namespace: 'web' },
    spec: { template: { metadata: { labels: { app: 'x' }, annotations: { 'sidecar.istio.io/interceptionMode': 'TPROXY' } } } },
  }];

  test('the table escapes bidi overrides, newlines and control characters in names', () => {
    const table = Explainer.fromManifests(objects).toTable();
    expect(table).toContain('web\\u202Egnp.exe\\nINFO all good\\u0007');
    expect(table).not.toMatch(/[\u202E\u0007]/);
    expect(table.split('\n').some(l => l.startsWith('INFO all good'))).toBe(false);
  });

  test('Mermaid escapes them too, and quotes and angle brackets', () => {
    const mermaid = Explainer.fromManifests([{ ...objects[0], metadata: { name: `${evil}"]<b>`, namespace: 'web' } }]).toMermaid();
    expect(mermaid).not.toMatch(/[\u202E\u0007]/);
    expect(mermaid).toContain('\\u202E');
    expect(mermaid).toContain('#quot;]#lt;b#gt;');
  });

  test('JSON keeps them exact', () => {
    const json = JSON.parse(Explainer.fromManifests(objects).toJson());
    expect(json.paths[0].title).toContain(evil);
  });
});

describe('skipped: every object explain does not use is listed with the reason', () => {
  test('a kind or type URL named like an Object.prototype member is an unknown kind, not a crash (found by the property suite)', () => {
    // GIVEN kinds and type URLs that are names of Object.prototype members
    const yaml = docs(
      'apiVersion: v1\nkind: toString\nmetadata: { name: a, namespace: web }',
      'apiVersion: v1\nkind: constructor\nmetadata: { name: b, namespace: web }',
      'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: f, namespace: web }\n'
        + 'spec: { configPatches: [{ applyTo: NETWORK_FILTER, match: { context: SIDECAR_INBOUND }, patch: { operation: MERGE, value: { typed_config: { "@type": "type.googleapis.com/envoy.api.v2.valueOf" } } } }] }');
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN both kinds are skipped as unknown, and the v2 URL gets the generic fix
    expect(report.skipped.find(s => s.object === 'toString web/a')!.reason).toBe('kind toString is not read by explain');
    expect(report.skipped.find(s => s.object === 'constructor web/b')!.reason).toBe('kind constructor is not read by explain');
  });

  function skippedOf(yaml: string) {
    return Explainer.fromYaml(yaml).skipped;
  }

  test.each([
    ['unknown kind', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: web }', /^kind ConfigMap is not read by explain/, /none needed/],
    ['kind in the wrong case', 'apiVersion: v1\nkind: service\nmetadata: { name: s }', /^kind "service" is not a kind: kinds are case-sensitive/, /^write kind: Service$/],
    ['string ipBlocks', 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: web }\nspec:\n  rules:\n  - from:\n    - source: { ipBlocks: "10.0.0.0/8" }',
      /^spec.rules\[0\].from\[0\].source.ipBlocks "10.0.0.0\/8" is not a list of strings/, /ipBlocks: \["10.0.0.0\/8"\]/],
    ['map configPatches', 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: f, namespace: web }\nspec:\n  configPatches: { applyTo: NETWORK_FILTER }',
      /^spec.configPatches {"applyTo":"NETWORK_FILTER"} is not a list/, /YAML list/],
    ['list selector', 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: web }\nspec:\n  selector: [app, httpbin]', /^spec.selector \["app","httpbin"\] is not a map of strings/, /key: "value"/],
    ['capitalised keys pasted from a web page', 'ApiVersion: apps/v1\nKind: Deployment\nMetadata: { name: d }', /^keys "ApiVersion", "Kind", "Metadata" are capitalised/, /"apiVersion", "kind", "metadata"/],
    ['unsupported API version', 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: { name: d, namespace: web }', /^apiVersion "extensions\/v1beta1" is not served for Deployment/, /^use apiVersion: apps\/v1$/],
    ['Envoy v2 type URL', sidecarXffFilterYaml(1).replace('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', 'envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager'),
      /uses the Envoy v2 type URL "type.googleapis.com\/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager"/,
      /^use "type.googleapis.com\/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"$/],
  ])('%s', (_, yaml, reason, fix) => {
    // WHEN
    const skipped = skippedOf(yaml);
    // THEN
    expect(skipped).toHaveLength(1);
    expect(skipped[0].reason).toMatch(reason);
    expect(skipped[0].fix).toMatch(fix);
    expect(skipped[0].source).toBe('input document 1');
  });

  test('of two identical objects the later is used (as kubectl apply does) and the earlier is listed', () => {
    // GIVEN two copies of the same Deployment, the second with TPROXY
    const report = Explainer.fromYaml(docs(workloadYaml(), workloadYaml('TPROXY')));
    // THEN
    expect(report.skipped).toEqual([expect.objectContaining({ object: 'Deployment web/httpbin', source: 'input document 1' })]);
    expect(report.skipped[0].reason).toMatch(/^duplicate object: another Deployment with the same API group, namespace and name \(input document 2\) replaces it when applied/);
    expect(report.paths.filter(p => p.direction === 'east-west')).toHaveLength(1);
    expect(report.paths[0].appSocketPeer).toBe('10.244.2.9');
  });

  test('the table lists problem skips one by one and counts kinds explain does not read', () => {
    // GIVEN a bad policy, two ConfigMaps and a Sidecar resource
    const yaml = docs(
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: web }\nspec: { rules: [{ from: [{ source: { ipBlocks: "10.0.0.0/8" } }] }] }',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: web }', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: b, namespace: web }',
      'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: d, namespace: web }');
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    expect(report.toTable()).toMatch(/skipped \(4 objects not used\):\n {2}SKIPPED AuthorizationPolicy web\/p \(input document 1\): spec.rules\[0\].from\[0\].source.ipBlocks "10.0.0.0\/8" is not a list of strings\n {4}fix: .*\n {2}not read \(kinds explain does not model\): 2 ConfigMap, 1 Sidecar\n/);
    expect(report.skipped.find(s => s.object === 'Sidecar web/d')!.fix).toBe('none: explain does not model this kind; check by hand what it does to the client address');
    expect(report.skipped.find(s => s.object === 'ConfigMap web/a')!.fix).toBe('none needed: it does not change the client address');
  });

  test('the table has a skipped section and the JSON a skipped field', () => {
    const report = Explainer.fromYaml(docs(workloadYaml(), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: web }'));
    expect(report.toTable()).toMatch(/skipped \(1 objects not used\):\n {2}not read \(kinds explain does not model\): 1 ConfigMap\n/);
    expect(JSON.parse(report.toJson()).skipped).toEqual(report.skipped);
  });
});

describe('work and output stay linear', () => {
  test('a gateway no VirtualService binds is traced to a sample of the workloads, with a note', () => {
    // GIVEN one unbound gateway and 40 workloads
    const yaml = docs(gatewayYaml({ etp: 'Local' }), ...Array.from({ length: 40 }, (_, i) => workloadYaml(undefined, `w${i}`)));
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN 16 north-south paths, not 40, and 40 east-west ones
    expect(report.paths.filter(p => p.direction === 'north-south')).toHaveLength(16);
    expect(report.paths.filter(p => p.direction === 'east-west')).toHaveLength(40);
    expect(report.findings).toContainEqual(expect.objectContaining({ severity: FindingSeverity.INFO, message: expect.stringMatching(/traced to the first 16 of 40 workloads only/) }));
  });

  test('a hop lists at most 32 policy matches and counts the rest in its note', () => {
    // GIVEN 40 namespace-wide policies on one workload
    const policies = Array.from({ length: 40 }, (_, i) => policyYaml(`p${i}`, 'web', '{}', 'ipBlocks', ['10.0.0.0/8']));
    // WHEN
    const report = Explainer.fromYaml(docs(workloadYaml('TPROXY'), ...policies));
    // THEN
    const sidecar = report.paths[0].hops.find(h => h.hop.startsWith('sidecar'))!;
    expect(sidecar.policies).toHaveLength(32);
    expect(sidecar.note).toMatch(/; 8 more policies apply here and are not listed$/);
  });
});
