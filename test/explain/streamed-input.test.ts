import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { docs, gatewayYaml, workloadYaml } from './fixtures';
import { writeClusterDump } from '../../bench/explain-dump';
import { Explainer } from '../../src';
import { main } from '../../src/cli';
import { readManifestStream } from '../../src/explain/stream';

/*
 * Streamed input (src/explain/stream.ts): files and stdin read document by document and List item by List item;
 * kinds explain never reads are counted per kind and dropped before they are built; replicas are not workloads.
 */

const ROOT = path.join(__dirname, '..', '..');

function run(argv: string[], io: { readFile?: (p: string) => string; readChunks?: (p: string) => Iterable<string> }) {
  let out = '';
  let err = '';
  main(argv, { out: t => { out += t; }, err: t => { err += t; }, readFile: io.readFile ?? (p => fs.readFileSync(p, 'utf8')), ...(io.readChunks ? { readChunks: io.readChunks } : {}) });
  const code = process.exitCode;
  process.exitCode = 0;
  return { out, err, code };
}

/** Pieces of `n` characters: chunk boundaries fall inside lines, keys and multi-byte characters. */
function pieces(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

function dump(bytes: number, noise = true): string {
  const parts: string[] = [];
  writeClusterDump(bytes, t => parts.push(t), { noise });
  return parts.join('');
}

const SMALL_DUMP = dump(1_500_000);

describe('streamed input', () => {
  test('stdin and a file give the same report', () => {
    // GIVEN a cluster dump in a file
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
    const file = path.join(dir, 'dump.yaml');
    fs.writeFileSync(file, SMALL_DUMP);
    const cli = (args: string[], input?: string) => spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', `require('./src/cli').main(${JSON.stringify(args)})`], {
      cwd: ROOT, input, encoding: 'utf-8', env: { ...process.env, TS_NODE_PROJECT: 'test/tsconfig.json' }, maxBuffer: 64 * 1024 * 1024,
    });
    // WHEN explain reads it as a file and from stdin (the real file descriptors, in a child process)
    const fromFile = cli(['explain', '--json', file]);
    const fromStdin = cli(['explain', '--json', '-'], SMALL_DUMP);
    // THEN both exit 0 with the same report but for the source's name
    expect([fromFile.status, fromFile.stderr]).toEqual([0, '']);
    expect([fromStdin.status, fromStdin.stderr]).toEqual([0, '']);
    expect(JSON.parse(fromFile.stdout).paths.length).toBeGreaterThan(0);
    expect(fromStdin.stdout.split('(- document').join(`(${file} document`)).toBe(fromFile.stdout);
  });

  test('the report does not depend on where the chunks of the input end', () => {
    // GIVEN the same dump in one piece and in pieces of 4093 characters
    const whole = run(['explain', '--json', 'dump.yaml'], { readFile: () => SMALL_DUMP });
    const chunked = run(['explain', '--json', 'dump.yaml'], { readChunks: () => pieces(SMALL_DUMP, 4093) });
    // THEN the reports are the same
    expect(chunked.out).toBe(whole.out);
  });

  test('the same report with and without the kinds explain does not read', () => {
    // GIVEN a dump, and the same objects without the noise kinds (Events, Secrets, ConfigMaps, old ReplicaSets, EndpointSlices)
    const withNoise = JSON.parse(run(['explain', '--json', 'dump.yaml'], { readFile: () => SMALL_DUMP }).out);
    const without = JSON.parse(run(['explain', '--json', 'dump.yaml'], { readFile: () => dump(1_500_000, false) }).out);
    // THEN paths, findings and listed skips are the same, and the noise is only counted
    expect(withNoise.paths).toEqual(without.paths);
    expect(withNoise.findings).toEqual(without.findings);
    expect(withNoise.skipped).toEqual(without.skipped);
    expect(Object.keys(withNoise.skippedKinds).sort()).toEqual(['ConfigMap', 'EndpointSlice', 'Event', 'Secret', 'Sidecar']);
    expect(without.skippedKinds).toEqual({ Sidecar: withNoise.skippedKinds.Sidecar });
  });

  test('a dump whose every kind is skipped exits 0 with counts per kind', () => {
    // GIVEN a List of Events, Secrets and a ConfigMap that is not Istio's
    const item = (kind: string, name: string) => `- apiVersion: v1\n  kind: ${kind}\n  metadata:\n    name: ${name}\n    namespace: web\n  data:\n    key: dmFsdWU=\n`;
    const yaml = `apiVersion: v1\nitems:\n${item('Event', 'e1')}${item('Event', 'e2')}${item('Secret', 's1')}${item('ConfigMap', 'app-config')}kind: List\nmetadata:\n  resourceVersion: ""\n`;
    // WHEN explain reads it, as JSON and as a table
    const json = run(['explain', '--json', 'dump.yaml'], { readFile: () => yaml });
    const table = run(['explain', 'dump.yaml'], { readFile: () => yaml });
    // THEN exit 0, no paths, no entry per object, and the counts
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out);
    expect(report.paths).toEqual([]);
    expect(report.skipped).toEqual([]);
    expect(report.skippedKinds).toEqual({ ConfigMap: 1, Event: 2, Secret: 1 });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/skipped \(4 objects not used\):\n {2}not read \(kinds explain does not model\): 1 ConfigMap, 2 Event, 1 Secret\n/);
  });

  test('objects that were read but cannot be used keep their own entry, with the reason, the fix and the List item', () => {
    // GIVEN a List with a Secret (counted) and a Service whose spec is a string (read, unusable)
    const yaml = 'apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n  spec: oops\nkind: List\nmetadata: {}\n';
    // WHEN
    const report = JSON.parse(run(['explain', '--json', 'list.yaml'], { readFile: () => yaml }).out);
    // THEN
    expect(report.skippedKinds).toEqual({ Secret: 1 });
    expect(report.skipped).toEqual([expect.objectContaining({ object: 'Service default/web', source: 'list.yaml document 1, List item 1', reason: 'spec "oops" is not a map' })]);
  });

  test('the mesh ConfigMap and a Gateway\'s parametersRef overlay ConfigMap are read, other ConfigMaps dropped unbuilt', () => {
    // GIVEN three ConfigMaps: istio (mesh), an overlay with a service key, and an application's
    const yaml = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    rootNamespace: istio-system\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gw-options\n  namespace: web\ndata:\n  service: |\n    spec:\n      externalTrafficPolicy: Local\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: web\ndata:\n  key: value\n',
    ].join('---\n');
    // WHEN the stream reads it
    const read = readManifestStream([yaml], 'in.yaml');
    // THEN the first two are built, with their document numbers; the third is counted
    expect(read.objects.map(o => o.metadata.name)).toEqual(['istio', 'gw-options']);
    expect([...read.notRead]).toEqual([['ConfigMap', 1]]);
  });

  test('documents keep their numbers in messages, across --- and List items', () => {
    // GIVEN a valid document, a Secret, then a document that is not valid YAML
    const yaml = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n---\nkind: Service\nmetadata: { name: [\n';
    // WHEN
    const r = run(['explain', 'bad.yaml'], { readFile: () => yaml });
    // THEN exit 2 naming document 3
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^cannot read manifests: bad.yaml: document 3 is not valid YAML/);
  });

  test('fails on a document with a top-level items list that is not a List', () => {
    // GIVEN a Deployment-kind document with items at column 0
    const yaml = 'apiVersion: apps/v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\nkind: Deployment\nmetadata:\n  name: x\n';
    // WHEN
    const r = run(['explain', 'odd.yaml'], { readFile: () => yaml });
    // THEN exit 2 with the fix
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/odd.yaml: document 1 has a top-level "items:" list but is not a List \(kind Deployment\)/);
  });

  test('a List item that defines an anchor later items use is read with them', () => {
    // GIVEN labels anchored in item 0 and used by item 1
    const yaml = 'apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n    labels: &l { team: web }\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n    labels: *l\nkind: List\nmetadata: {}\n';
    // WHEN
    const read = readManifestStream([yaml], 'in.yaml');
    // THEN both Services are read, with the same labels
    expect(read.objects.map(o => [o.metadata.name, o.metadata.labels.team])).toEqual([['a', 'web'], ['b', 'web']]);
  });
});

describe('replicas are not workloads', () => {
  const podYaml = (name: string, labels: string, owner?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: web
  labels: { ${labels} }${owner ? `\n  ownerReferences:\n  - { apiVersion: apps/v1, kind: ${owner.split('/')[0]}, name: ${owner.split('/')[1]}, controller: true, uid: u }` : ''}
spec:
  containers:
  - name: app
    image: httpbin
`;
  const rsYaml = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: httpbin-5d9f
  namespace: web
  ownerReferences:
  - { apiVersion: apps/v1, kind: Deployment, name: httpbin, controller: true, uid: u }
spec:
  selector: { matchLabels: { app: httpbin, pod-template-hash: 5d9f } }
  template:
    metadata:
      labels: { app: httpbin, version: v1, pod-template-hash: 5d9f }
    spec:
      containers:
      - name: app
        image: httpbin
`;

  function workloadTitles(yaml: string): string[] {
    return Explainer.fromYaml(yaml).paths.filter(p => p.title.startsWith('north-south')).map(p => p.title.replace(/^.* -> /, ''));
  }

  test('a Deployment with its ReplicaSet and pods is one workload', () => {
    // GIVEN a gateway, the httpbin Deployment, its ReplicaSet, two pods owned by it and one (ReplicaSet left out) with pod-template-hash
    const yaml = docs(gatewayYaml({ etp: 'Local' }), workloadYaml('REDIRECT'), rsYaml,
      podYaml('httpbin-5d9f-aaaaa', 'app: httpbin, version: v1, pod-template-hash: 5d9f', 'ReplicaSet/httpbin-5d9f'),
      podYaml('httpbin-5d9f-bbbbb', 'app: httpbin, version: v1, pod-template-hash: 5d9f', 'ReplicaSet/httpbin-5d9f'),
      podYaml('httpbin-77aa-ccccc', 'app: httpbin, version: v1, pod-template-hash: 77aa', 'ReplicaSet/httpbin-77aa'));
    // WHEN / THEN only the Deployment is a workload
    expect(workloadTitles(yaml)).toEqual(['workload web/httpbin']);
    expect(workloadTitles(yaml)).toEqual(workloadTitles(docs(gatewayYaml({ etp: 'Local' }), workloadYaml('REDIRECT'))));
  });

  test('bare pods with identical labels are one workload, named by the first pod', () => {
    // GIVEN a gateway and three bare pods with the same labels, one with other labels
    const yaml = docs(gatewayYaml({ etp: 'Local' }),
      podYaml('job-c', 'app: job'), podYaml('job-a', 'app: job'), podYaml('job-b', 'app: job'), podYaml('other', 'app: other'));
    // WHEN / THEN two workloads
    expect(workloadTitles(yaml).sort()).toEqual(['workload web/job-a', 'workload web/other']);
  });

  test('the stream keeps one replica per group and gives the report of the whole input', () => {
    // GIVEN pods of two absent ReplicaSets (names out of order), old ReplicaSets of an absent Deployment, and a gateway
    const rs = (name: string) => rsYaml.replace('name: httpbin-5d9f\n', `name: ${name}\n`).replace('name: httpbin, controller', 'name: gone, controller');
    const yaml = `apiVersion: v1\nitems:\n${[gatewayYaml({ etp: 'Local' }),
      podYaml('web-b-2', 'app: web', 'ReplicaSet/web-b'), podYaml('web-a-9', 'app: web', 'ReplicaSet/web-a'), podYaml('web-a-1', 'app: web', 'ReplicaSet/web-a'),
      podYaml('api-1', 'app: api', 'ReplicaSet/api-x'), rs('httpbin-old-2'), rs('httpbin-old-1')]
      .flatMap(d => d.trim().split('\n---\n')).map(d => d.trim().split('\n').map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)).join('\n')).join('\n')}\nkind: List\nmetadata: {}\n`;
    // WHEN the CLI streams it and the library reads it whole
    const streamed = JSON.parse(run(['explain', '--json', 'input'], { readFile: () => yaml }).out);
    const whole = JSON.parse(Explainer.fromYaml(yaml).toJson());
    // THEN the same paths and findings: one workload per group
    expect(streamed.paths).toEqual(whole.paths);
    expect(streamed.findings).toEqual(whole.findings);
    expect(streamed.paths.filter((p: any) => p.title.startsWith('north-south')).map((p: any) => p.title.replace(/^.* -> /, '')).sort())
      .toEqual(['workload web/api-1', 'workload web/httpbin-old-1', 'workload web/web-a-1']);
  });

  test('a pod whose controller is not in the input is traced as a workload', () => {
    // GIVEN a pod owned by a ReplicaSet that is not in the input, without pod-template-hash
    const yaml = docs(gatewayYaml({ etp: 'Local' }), podYaml('lonely-1', 'app: lonely', 'ReplicaSet/gone'));
    // WHEN / THEN the pod is the workload
    expect(workloadTitles(yaml)).toEqual(['workload web/lonely-1']);
  });
});

describe('start-up of the CLI', () => {
  const SRC = path.join(ROOT, 'src');
  const loaded = () => Object.keys(require.cache).filter(f => f.startsWith(SRC) || /node_modules[\\/]js-yaml[\\/]/.test(f)).map(f => path.relative(ROOT, f));

  test.each([[['--help']], [['--version']], [['explain', '--help']]])('%j answers without loading the reader, the explainer or js-yaml', argv => {
    jest.isolateModules(() => {
      // GIVEN a fresh module registry
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const cli = require('../../src/cli');
      let out = '';
      // WHEN
      cli.main(argv, { out: (t: string) => { out += t; }, err: (t: string) => { out += t; }, readFile: () => '' });
      // THEN it answers, and nothing of explain is loaded
      expect(process.exitCode).toBe(0);
      expect(out).toMatch(argv[0] === '--version' ? /^cdk8s-istio-source-ip \d+\.\d+\.\d+\n$/ : /^usage: cdk8s-istio-source-ip explain/);
      const modules = loaded();
      for (const m of ['explainer.ts', 'manifest-parser.ts', 'input.ts', 'stream.ts', 'explain-stream.ts']) expect(modules).not.toContain(path.join('src', 'explain', m));
      expect(modules.filter(m => m.includes('js-yaml'))).toEqual([]);
      // and explain loads them on first use
      cli.main(['explain', 'a.yaml'], { out: () => undefined, err: () => undefined, readFile: () => docs(workloadYaml('REDIRECT')) });
      expect(loaded()).toContain(path.join('src', 'explain', 'manifest-parser.ts'));
      process.exitCode = 0;
    });
  });
});
