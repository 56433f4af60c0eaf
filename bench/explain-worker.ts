/*
 * One measured explain run in a fresh process: the CLI over one manifest file, as users run it (the file streamed),
 * with the output counted and discarded, or written to the file given third. Prints wall time, peak RSS, exit code
 * and output size as JSON.
 */
import { readFileSync, writeFileSync } from 'fs';
import { performance } from 'perf_hooks';
import { main } from '../src/cli';
import { fileChunks } from '../src/explain/stream';

function run(): void {
  const [file, format, reportFile] = process.argv.slice(2);
  let outBytes = 0;
  const out: string[] = [];
  let err = '';
  const started = performance.now();
  const argv = ['explain', ...(format === 'table' ? [] : [`--${format}`]), file];
  main(argv, {
    out: t => { outBytes += Buffer.byteLength(t); if (reportFile) out.push(t); },
    err: t => { err += t; },
    readFile: p => readFileSync(p, 'utf8'),
    readChunks: p => fileChunks(p),
  });
  const ms = performance.now() - started;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  if (reportFile) writeFileSync(reportFile, out.join(''));
  process.stdout.write(JSON.stringify({ file, format, ms, peakRssMiB, exitCode: process.exitCode ?? 0, outBytes, err: err.slice(0, 300) }) + '\n');
  process.exitCode = 0;
}

run();
