import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/*
 * Expensive inputs of the validation harness (the Istio CRD bundles parsed and their validators compiled, Envoy's
 * protos loaded) are prepared once per test run by jest's globalSetup and read by every test file from here. The
 * directory name is a hash of everything the prepared files derive from, so a change to a bundle, to the harness
 * or to a validator package is never served a stale copy.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE_ROOT = path.join(ROOT, 'node_modules', '.cache', 'cdk8s-istio-source-ip-harness');

/** Hash of the given files' contents and strings. */
export function contentHash(files: string[], extra: string[] = []): string {
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    hash.update(file);
    hash.update(fs.readFileSync(file));
  }
  for (const s of extra) hash.update(s);
  return hash.digest('hex').slice(0, 16);
}

/** Version of an installed package, part of every cache key that depends on it. */
export function packageVersion(name: string): string {
  return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf-8')).version;
}

/** The cache folder for one kind of prepared input; it exists once `markComplete` ran for it. */
export function preparedDir(kind: string, key: string): string {
  return path.join(CACHE_ROOT, `${kind}-${key}`);
}

const COMPLETE = '.complete';

export function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE));
}

/** Writes into a temporary sibling and renames it into place, so no reader ever sees a half-written cache. */
export function writeAtomically(dir: string, write: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  write(tmp);
  fs.writeFileSync(path.join(tmp, COMPLETE), '');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}
