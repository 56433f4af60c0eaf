import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installPacked, PackedInstall } from './packed-package';

/*
 * The package's entry point as users load it: `main` is lib/index.js, jsii's output for src/index.ts bundled into one
 * file at compile time (start-up, issue 29). Requiring it must load that one file of the package, export what
 * src/index.ts exports with jsii's type information, keep the lazy parts lazy, and run the trace on first synthesis.
 */

let installDir: string;
let packed: PackedInstall;

/** Runs `script` with plain node in the install directory; its last stdout line is JSON. */
function probe(script: string): any {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: installDir, encoding: 'utf-8' });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** A probe's prelude: what of the package and of its bundled dependencies `require.cache` holds, at each step. */
const LOADED = `
const pkgDir = ${'${PKG}'};
const loaded = () => {
  const files = Object.keys(require.cache);
  return {
    own: files.filter(f => f.startsWith(pkgDir + '/')).map(f => f.slice(pkgDir.length + 1)).filter(f => !f.startsWith('node_modules/')),
    yaml: files.some(f => f.includes('/js-yaml/')),
    ipaddr: files.some(f => f.includes('/ipaddr.js/')),
  };
};`;

function prelude(): string {
  return LOADED.replace('${PKG}', JSON.stringify(fs.realpathSync(packed.pkgDir)));
}

beforeAll(() => {
  installDir = fs.mkdtempSync(path.join(os.tmpdir(), 'package-entry-'));
  packed = installPacked(path.join(installDir, 'node_modules'));
}, 180_000);

afterAll(() => {
  if (installDir) fs.rmSync(installDir, { recursive: true, force: true });
});

test('main is the bundle: requiring the package loads that one file, not the modules of lib/src', () => {
  // GIVEN the installed package
  const manifest = JSON.parse(fs.readFileSync(path.join(packed.pkgDir, 'package.json'), 'utf-8'));
  expect(manifest.main).toBe('lib/index.js');
  expect(manifest.types).toBe('lib/src/index.d.ts');
  // WHEN it is required
  const r = probe(`${prelude()} require('cdk8s-istio-source-ip'); console.log(JSON.stringify(loaded()));`);
  // THEN the only file of the package in the module registry is the bundle, and neither bundled dependency is loaded
  expect(r).toEqual({ own: ['lib/index.js'], yaml: false, ipaddr: false });
});

test('the bundle exports what src/index.ts exports, with jsii runtime type information and the classes\' names', () => {
  // GIVEN the sources' exports, and the name of each exported class or function
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sources = require('../src');
  const fromSources = Object.keys(sources).sort();
  const classNames = fromSources.filter(k => typeof sources[k] === 'function').map(k => `${k}=${sources[k].name}`);
  // WHEN the bundle is required
  const r = probe(`const lib = require('cdk8s-istio-source-ip'); const rtti = Symbol.for('jsii.rtti');
const names = Object.keys(lib).sort();
console.log(JSON.stringify({ names, classNames: names.filter(k => typeof lib[k] === 'function').map(k => k + '=' + lib[k].name),
  fqn: lib.PreservedIngressGateway[rtti].fqn, version: lib.TproxyWorkload[rtti].version }));`);
  // THEN the same names; the classes keep their own names (esbuild renames a class that refers to itself, such as
  // PreservedIngressGateway, to _PreservedIngressGateway unless told to keep names); and they carry the fqn and
  // version the jsii kernel (Python, Java, Go) reads
  expect(r.names).toEqual(fromSources);
  expect(r.classNames).toEqual(classNames);
  expect(classNames).toContain('PreservedIngressGateway=PreservedIngressGateway');
  expect(fromSources.length).toBeGreaterThan(50);
  expect(r.fqn).toBe('cdk8s-istio-source-ip.PreservedIngressGateway');
  expect(r.version).toBe(packed.version);
});

test('fails synthesis through the bundle with the trace\'s error, loading the trace on first use from the same file', () => {
  // GIVEN an app, built through the bundle, whose serviceAnnotations turn on PROXY the gateway does not accept
  const r = probe(`${prelude()}
const { Testing } = require('cdk8s');
const { LoadBalancerProfile, PreservedIngressGateway, Explainer } = require('cdk8s-istio-source-ip');
const atRequire = loaded();
const chart = Testing.chart();
new PreservedIngressGateway(chart, 'Gateway', {
  loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
  serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' },
}).addHttpServer();
let error = '';
// WHEN it synthesises
try { Testing.synth(chart); } catch (e) { error = String(e.message); }
const afterSynth = loaded();
// and explain reads a manifest
const report = Explainer.fromYaml('apiVersion: v1\\nkind: Namespace\\nmetadata: { name: web }\\n');
console.log(JSON.stringify({ atRequire, error, afterSynth, afterExplain: loaded(), explained: typeof report.allFindings }));`);
  // THEN the trace's ERROR fails the synthesis, and neither the trace nor explain loaded a file of lib/src
  expect(r.error).toMatch(/the load balancer sends PROXY protocol but the gateway does not accept it/);
  expect(r.atRequire.own).toEqual(['lib/index.js']);
  expect(r.afterSynth.own).toEqual(['lib/index.js']);
  expect(r.afterExplain.own).toEqual(['lib/index.js']);
  // the YAML reader loads with the first explain, not before
  expect(r.afterSynth.yaml).toBe(false);
  expect(r.afterExplain.yaml).toBe(true);
  expect(r.explained).toBe('function');
});
