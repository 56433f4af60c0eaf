import { main } from '../../src/cli';

/**
 * Runs the command line in-process over an in-memory file map (a missing file reads as ENOENT), and returns what it
 * printed and its exit code (reset afterwards, so that jest's own exit code is not changed).
 */
export function runCli(argv: string[], files: { readonly [path: string]: string } = {}): { out: string; err: string; code: number | undefined } {
  let out = '';
  let err = '';
  main(argv, {
    out: t => { out += t; },
    err: t => { err += t; },
    readFile: p => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p];
    },
  });
  const code = process.exitCode;
  process.exitCode = 0;
  return { out, err, code: code as number | undefined };
}
