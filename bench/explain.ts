/*
 * `npm run bench:explain`: time and peak memory of `explain` (the CLI, end to end: read, parse, trace, render)
 * over generated manifest sets of 1, 10 and 50 MB, each run in a fresh process, median of --reps runs.
 * Usage: npm run bench:explain -- [--reps 3] [--sizes 1,10,50] [--format table|json|mermaid] [--lib lib/src]
 */
import { spawnSync, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { arg, median } from './args';
import { explainManifests } from './explain-manifests';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const JS_DIR = path.join(OUT_DIR, 'js');
const MIB = 1024 * 1024;

/** The worker runs as plain JavaScript against the compiled library, as users get it. */
function transpileWorker(libDir: string): string {
  fs.mkdirSync(JS_DIR, { recursive: true });
  const source = fs.readFileSync(path.join(__dirname, 'explain-worker.ts'), 'utf-8').replace(/'\.\.\/src\/([^']+)'/g, (_, m: string) => JSON.stringify(path.join(libDir, m)));
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = path.join(JS_DIR, 'explain-worker.js');
  fs.writeFileSync(file, js);
  return file;
}

function manifestFile(mib: number): string {
  const file = path.join(OUT_DIR, `explain-${mib}MB.yaml`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, explainManifests(mib * MIB));
  return file;
}

interface Sample { readonly ms: number; readonly peakRssMiB: number; readonly exitCode: number; readonly outBytes: number; readonly err: string }

function runWorker(worker: string, file: string, format: string): Sample {
  // The heap limit is well above the 1 GB target, so that a run over the target is measured rather than killed.
  const r = spawnSync(process.execPath, ['--max-old-space-size=6144', worker, file, format], { cwd: ROOT, encoding: 'utf-8', maxBuffer: 16 * MIB });
  if (r.status !== 0) throw new Error(`explain worker on ${file} failed:\n${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function main(): void {
  const libDir = path.resolve(ROOT, arg('lib', path.join('lib', 'src')));
  if (!fs.existsSync(path.join(libDir, 'cli.js'))) {
    console.log('lib/ is missing: compiling with jsii first');
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: 'inherit' });
  }
  const worker = transpileWorker(libDir);
  const reps = Number(arg('reps', '3'));
  const sizes = arg('sizes', '1,10,50').split(',').map(Number);
  const format = arg('format', 'table');
  const rows = [];
  console.log(`explain --${format} (median of ${reps}; targets at 50 MB: < 30 s, < 1024 MiB peak RSS)`);
  for (const mib of sizes) {
    const file = manifestFile(mib);
    const samples = Array.from({ length: reps }, () => runWorker(worker, file, format));
    const row = { mib, bytes: fs.statSync(file).size, ms: median(samples.map(s => s.ms)), peakRssMiB: median(samples.map(s => s.peakRssMiB)), exitCode: samples[0].exitCode, outBytes: samples[0].outBytes, samples };
    rows.push(row);
    const perMiB = row.ms / (row.bytes / MIB);
    console.log(`${String(mib).padStart(3)} MB  ${(row.ms / 1000).toFixed(2).padStart(7)} s  ${row.peakRssMiB.toFixed(0).padStart(5)} MiB peak RSS  ${perMiB.toFixed(0).padStart(5)} ms/MB  exit ${row.exitCode}  output ${(row.outBytes / MIB).toFixed(1)} MB${samples[0].err ? `  stderr: ${samples[0].err.split('\n')[0]}` : ''}`);
  }
  const last = rows[rows.length - 1];
  if (rows.length > 1) {
    const growth = (last.ms / last.bytes) / (rows[0].ms / rows[0].bytes);
    console.log(`per-MB time growth ${rows[0].mib} MB -> ${last.mib} MB: ${growth.toFixed(2)}x (linear is about 1x)`);
  }
  const out = arg('out', path.join('bench', 'out', 'explain-results.json'));
  fs.writeFileSync(path.resolve(ROOT, out), JSON.stringify({
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, format, reps, rows,
  }, null, 2));
  console.log(`raw figures: ${out}`);
}

main();
