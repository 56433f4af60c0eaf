import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { installPacked, ROOT } from './packed-package';

/*
 * The validation plugin as users run it: the real `cdk8s synth` (cdk8s-cli from the npm registry, a devDependency)
 * on consumer apps whose cdk8s.yaml names the plugin by its npm package, loaded from the packed package in the
 * plugins directory (where cdk8s-cli would `npm install` it: <plugins>/<package>/<version>/node_modules/<package>).
 * The apps are plain JavaScript (the README's TypeScript app is transpiled here) so that no ts-node start-up counts.
 */

let work: string;
let appDir: string;
let version: string;

// A gateway written by hand as raw ApiObjects: its Service keeps externalTrafficPolicy Cluster (explain's ERROR
// "client IP lost"), which no construct of the library would write without a warning.
const HAND_WRITTEN_APP = `
const { ApiObject, App, Chart } = require('cdk8s');
const app = new App();
const chart = new Chart(app, 'hand-written');
new ApiObject(chart, 'Deployment', {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ingressgateway', namespace: 'istio-ingress' },
  spec: {
    selector: { matchLabels: { istio: 'ingressgateway' } },
    template: {
      metadata: { labels: { istio: 'ingressgateway' }, annotations: { 'inject.istio.io/templates': 'gateway' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] },
    },
  },
});
new ApiObject(chart, 'Service', {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingressgateway', namespace: 'istio-ingress' },
  spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', selector: { istio: 'ingressgateway' }, ports: [{ name: 'http', port: 80 }] },
});
app.synth();
`;

/** The README's "TypeScript, from nothing" app, transpiled to JavaScript (test/docs-examples.test.ts type-checks it). */
function readmeApp(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8');
  const section = readme.slice(readme.indexOf('### TypeScript, from nothing'));
  const source = /^```ts\n([\s\S]*?)^```/m.exec(section)![1];
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
}

function synth(app: string, outdir: string) {
  const started = Date.now();
  // The CLI sets CDK8S_RECORD_CONSTRUCT_METADATA for the app itself: nothing of the test's environment leaks in.
  const env: NodeJS.ProcessEnv = { ...process.env, CDK8S_CHECK_UPGRADE: 'false' };
  delete env.CDK8S_RECORD_CONSTRUCT_METADATA;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s'), 'synth', '--app', `node ${app}`, '--output', outdir], {
    cwd: appDir,
    encoding: 'utf-8',
    env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-plugin-package-'));
  const plugins = path.join(work, 'plugins');
  // The plugins directory holds the package at its version, as `npm install cdk8s-istio-source-ip@<version>` there would.
  const pkgJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8'));
  version = pkgJson.version;
  const nodeModules = path.join(plugins, 'cdk8s-istio-source-ip', version, 'node_modules');
  installPacked(nodeModules, ['cdk8s', 'constructs', 'cdk8s-plus-27', 'cdk8s-plus-33']);
  appDir = path.join(work, 'app');
  fs.mkdirSync(appDir);
  // The app's own dependencies: the same installed package and peers.
  fs.symlinkSync(nodeModules, path.join(appDir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(appDir, 'cdk8s.yaml'), [
    'language: typescript',
    'app: node main.js',
    `pluginsDirectory: ${plugins}`,
    'validations:',
    '  - package: cdk8s-istio-source-ip',
    `    version: ${version}`,
    '    class: SourceIpValidation',
    '    properties:',
    '      failOn: error',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(appDir, 'hand-written.js'), HAND_WRITTEN_APP);
  fs.writeFileSync(path.join(appDir, 'main.js'), readmeApp());
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('fails synthesis on a known ERROR, reported as a violation with the construct, the message and the fix', () => {
  // WHEN
  const r = synth('hand-written.js', 'dist-hand-written');
  // THEN cdk8s exits 2 after printing the plugin's report
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/Validation failed/);
  expect(r.stdout).toMatch(new RegExp(`Validation Report \\(cdk8s-istio-source-ip@${version.replace(/\./g, '\\.')}\\)`));
  expect(r.stdout).toMatch(/Status\s*│\s*failure/);
  expect(r.stdout).toMatch(/error: gateway istio-ingress\/ingressgateway/);
  expect(r.stdout).toMatch(/Construct Path: hand-written\/Service/);
  expect(r.stdout).toMatch(/Manifest Path: dist-hand-written\/hand-written\.k8s\.yaml/);
  expect(r.stdout).toMatch(/Recommendation: client IP lost: externalTrafficPolicy Cluster/);
  expect(r.stdout).toMatch(/How to fix: set externalTrafficPolicy: Local on Service ingressgateway/);
});

test('passes the README\'s app and shows the constructs\' warnings', () => {
  // WHEN
  const r = synth('main.js', 'dist-readme');
  // THEN
  expect(r.stderr).toMatch(/^cdk8s-istio-source-ip: warning \[my-mesh\/Xff\] trust trusted-hops: the sidecar trusts X-Forwarded-For entries from any caller, so a pod that calls it directly, bypassing the gateway, can forge its client address/m);
  expect(r.stderr).toMatch(/^cdk8s-istio-source-ip: warning \[my-mesh\/Tproxy\] workload "web\/httpbin" uses TPROXY/m);
  expect(r.stdout).toMatch(/Status\s*│\s*success/);
  expect(r.stdout).toMatch(/Validations ended succesfully/);
  expect(r.status).toBe(0);
  expect(fs.readdirSync(path.join(appDir, 'dist-readme'))).toContain('my-mesh.k8s.yaml');
});
