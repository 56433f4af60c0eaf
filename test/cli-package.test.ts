import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installPacked } from './packed-package';

/*
 * The explain CLI as users get it: packed with `npm pack`, unpacked as an installed dependency next to its peer
 * dependencies, and run through the package's `bin` entry with plain node.
 */

let installDir: string;
let bin: string;

const CLUSTER_GATEWAY_YAML = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ingressgateway, namespace: istio-ingress }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  template:
    metadata:
      labels: { istio: ingressgateway }
      annotations: { inject.istio.io/templates: gateway }
    spec: { containers: [{ name: istio-proxy, image: auto }] }
---
apiVersion: v1
kind: Service
metadata: { name: ingressgateway, namespace: istio-ingress }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  selector: { istio: ingressgateway }
  ports: [{ name: http, port: 80 }]
`;

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: installDir, encoding: 'utf-8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  installDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-package-'));
  const { pkgDir } = installPacked(path.join(installDir, 'node_modules'));
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf-8'));
  bin = path.join(pkgDir, manifest.bin['cdk8s-istio-source-ip']);
  fs.writeFileSync(path.join(installDir, 'gateway.yaml'), CLUSTER_GATEWAY_YAML);
}, 180_000);

afterAll(() => {
  if (installDir) fs.rmSync(installDir, { recursive: true, force: true });
});

test('the tarball ships the compiled library and its bundled dependencies, not the sources', () => {
  const pkgDir = path.join(installDir, 'node_modules', 'cdk8s-istio-source-ip');
  expect(fs.existsSync(path.join(pkgDir, 'lib', 'index.js'))).toBe(true);
  expect(fs.existsSync(path.join(pkgDir, 'lib', 'src', 'cli.js'))).toBe(true);
  expect(fs.existsSync(path.join(pkgDir, 'node_modules', 'js-yaml'))).toBe(true);
  expect(fs.existsSync(path.join(pkgDir, 'node_modules', 'ipaddr.js'))).toBe(true);
  expect(fs.existsSync(path.join(pkgDir, 'src'))).toBe(false);
  expect(fs.existsSync(path.join(pkgDir, 'test'))).toBe(false);
});

test('explain prints a table that shows the node IP under externalTrafficPolicy Cluster', () => {
  const r = run(['explain', 'gateway.yaml']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/gateway istio-ingress\/ingressgateway\s+10\.0\.0\.4/);
  expect(r.stdout).toMatch(/externalTrafficPolicy Cluster/);
});

test('explain --json reports the lost client address with its fix', () => {
  const r = run(['explain', '--json', 'gateway.yaml']);
  expect(r.status).toBe(0);
  const report = JSON.parse(r.stdout);
  const findings = JSON.stringify(report);
  expect(findings).toMatch(/client IP lost/);
  expect(findings).toMatch(/set externalTrafficPolicy: Local/);
});

test('explain reads standard input and fails on request when the report has errors', () => {
  const r = run(['explain', '--fail-on-error', '-'], CLUSTER_GATEWAY_YAML);
  expect(r.status).toBe(1);
});

test('fails with usage and exit code 2 on a bad option', () => {
  const r = run(['explain', '--nope', 'gateway.yaml']);
  expect(r.status).toBe(2);
  expect(r.stderr + r.stdout).toMatch(/usage/i);
});

test('explain reads a directory, as cdk8s synth writes it', () => {
  // GIVEN a dist/ folder with the manifest
  fs.mkdirSync(path.join(installDir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(installDir, 'dist', 'app.k8s.yaml'), CLUSTER_GATEWAY_YAML);
  // WHEN
  const r = run(['explain', '--fail-on-error', 'dist/']);
  // THEN
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/client IP lost/);
});
