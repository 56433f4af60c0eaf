/*
 * One measured explain run in a fresh process: the CLI over one manifest file, as users run it, with the output
 * counted and discarded. Prints wall time, peak RSS, exit code and output size as JSON.
 */
import { readFileSync } from 'fs';
import { performance } from 'perf_hooks';
import { main } from '../src/cli';

function run(): void {
  const [file, format] = process.argv.slice(2);
  let outBytes = 0;
  let err = '';
  const started = performance.now();
  const argv = ['explain', ...(format === 'table' ? [] : [`--${format}`]), file];
  main(argv, { out: t => { outBytes += t.length; }, err: t => { err += t; }, readFile: p => readFileSync(p, 'utf8') });
  const ms = performance.now() - started;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ file, format, ms, peakRssMiB, exitCode: process.exitCode ?? 0, outBytes, err: err.slice(0, 300) }) + '\n');
  process.exitCode = 0;
}

run();
