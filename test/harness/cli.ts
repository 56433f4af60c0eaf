import { main } from '../../src/cli';

/** What the command line printed, and its exit code. */
export interface CliResult {
  readonly out: string;
  readonly err: string;
  readonly code: number | undefined;
}

/**
 * Runs the command line in-process with `readFile` for its input, and returns what it printed and its exit code
 * (reset afterwards, so that jest's own exit code is not changed).
 */
export function runCliWith(argv: string[], readFile: (path: string) => string): CliResult {
  let out = '';
  let err = '';
  main(argv, { out: t => { out += t; }, err: t => { err += t; }, readFile });
  const code = process.exitCode;
  process.exitCode = 0;
  return { out, err, code: code as number | undefined };
}

/** A reader over an in-memory file map: a missing file throws as Node's `fs` does (ENOENT). */
export function readFromMap(files: { readonly [path: string]: string }): (path: string) => string {
  return p => {
    if (!(p in files)) throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), { code: 'ENOENT' });
    return files[p];
  };
}

/** Runs the command line in-process over an in-memory file map (see `runCliWith` and `readFromMap`). */
export function runCli(argv: string[], files: { readonly [path: string]: string } = {}): CliResult {
  return runCliWith(argv, readFromMap(files));
}
