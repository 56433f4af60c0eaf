import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/*
 * The package as users get it: `npm pack` of the compiled library, unpacked as an installed dependency next to its
 * peer dependencies (symlinked from this repository's node_modules, as npm installs them in the consuming project).
 * Used by test/cli-package.test.ts and test/cdk8s-plugin-package.test.ts.
 */

export const ROOT = path.resolve(__dirname, '..');

/**
 * Compiles lib/ when it is missing (`npm test` on a fresh clone runs before any compile): the compile task, jsii and
 * the bundle of the package's entry point (lib/index.js). Test files run in parallel workers: a lock directory keeps
 * two of them from compiling into lib/ at the same time.
 */
export function ensureCompiled(): void {
  const done = () => ['lib/src/index.js', 'lib/index.js', '.jsii'].every(f => fs.existsSync(path.join(ROOT, f)));
  if (done()) return;
  const lock = path.join(ROOT, '.jsii-compile-lock');
  const deadline = Date.now() + 170_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (done()) return;
      if (Date.now() > deadline) throw new Error(`${lock} is still held: remove it if no test run is compiling`);
      execFileSync('sleep', ['1']);
    }
  }
  try {
    if (!done()) execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: 'pipe' });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Where `installPacked` put the package. */
export interface PackedInstall {
  /** The package's directory (`<nodeModules>/cdk8s-istio-source-ip`). */
  readonly pkgDir: string;
  /** The node_modules directory that holds it and its peers. */
  readonly nodeModules: string;
  /** The package's version. */
  readonly version: string;
}

/**
 * Packs the library and unpacks the tarball into `<nodeModules>/cdk8s-istio-source-ip`, with `peers` symlinked from
 * this repository's node_modules next to it.
 */
export function installPacked(nodeModules: string, peers: string[] = ['cdk8s', 'constructs', 'cdk8s-plus-27']): PackedInstall {
  ensureCompiled();
  fs.mkdirSync(nodeModules, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', nodeModules], { cwd: ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const tarball = path.join(nodeModules, packed[0].filename);
  const pkgDir = path.join(nodeModules, 'cdk8s-istio-source-ip');
  fs.mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  fs.rmSync(tarball);
  for (const peer of peers) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(nodeModules, peer), 'dir');
  }
  return { pkgDir, nodeModules, version: packed[0].version };
}
