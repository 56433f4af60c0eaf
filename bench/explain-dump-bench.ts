/*
 * `npm run bench -- --explain-dump 50,200,500 [--reps 1] [--clean-check]`: `explain --json` (the CLI, end to end,
 * streaming the file) over generated cluster dumps (bench/explain-dump.ts) of the given sizes in MB, each in a
 * fresh process; time, peak RSS (the child's maxRSS), report size, paths, and the per-MB growth between the sizes.
 * With --clean-check, the largest dump is also explained without its noise kinds, and the two reports compared.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { arg, median } from './args';
import { DumpCounts, writeClusterDump } from './explain-dump';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const JS_DIR = path.join(OUT_DIR, 'js');
const MIB = 1024 * 1024;
const TARGETS = { seconds: 30, peakRssMiB: 1024, reportMiB: 5, timeGrowth: 11, rssGrowth: 2 };

function transpileWorker(libDir: string): string {
  fs.mkdirSync(JS_DIR, { recursive: true });
  const source = fs.readFileSync(path.join(__dirname, 'explain-worker.ts'), 'utf-8')
    .replace(/'\.\.\/src\/([^']+)'/g, (_, m: string) => JSON.stringify(path.join(libDir, m)));
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = path.join(JS_DIR, 'explain-worker.js');
  fs.writeFileSync(file, js);
  return file;
}

/** Writes the dump to a file a few megabytes at a time (a 500 MB string would not fit in one V8 string). */
function dumpFile(mib: number, noise: boolean): { file: string; counts: DumpCounts } {
  const file = path.join(OUT_DIR, `dump-${mib}MB${noise ? '' : '-without-noise'}.yaml`);
  const fd = fs.openSync(file, 'w');
  let pending: string[] = [];
  let size = 0;
  const counts = writeClusterDump(mib * MIB, text => {
    pending.push(text);
    size += text.length;
    if (size > 4 * MIB) {
      fs.writeSync(fd, pending.join(''));
      pending = [];
      size = 0;
    }
  }, { noise });
  fs.writeSync(fd, pending.join(''));
  fs.closeSync(fd);
  return { file, counts };
}

interface Sample { readonly ms: number; readonly peakRssMiB: number; readonly exitCode: number; readonly outBytes: number; readonly err: string }

function runWorker(worker: string, file: string, reportFile: string): Sample {
  // The heap limit is well above the 1 GB target, so that a run over the target is measured rather than killed.
  const r = spawnSync(process.execPath, ['--max-old-space-size=6144', worker, file, 'json', reportFile], { cwd: ROOT, encoding: 'utf-8', maxBuffer: 16 * MIB });
  if (r.status !== 0) throw new Error(`explain worker on ${file} failed:\n${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function loadAverage(): string {
  return os.loadavg().map(l => l.toFixed(2)).join(' ');
}

/** The workloads the report traces (in any path): one per Deployment and per bare-pod group, never per pod. */
function workloads(report: any): number {
  return new Set(report.paths.map((p: any) => / -> (workload \S+)/.exec(p.title)?.[1]).filter((w: unknown) => w !== undefined)).size;
}

/** The paths from the ingress gateway to a workload (the bare pods have no Service, so no route from the gateway). */
function northSouth(report: any): number {
  return report.paths.filter((p: any) => p.title.startsWith('north-south: gateway istio-system/istio-ingressgateway -> workload')).length;
}

/** The report without where its objects were read (the file name differs between the two dumps). */
function comparable(report: any): string {
  return JSON.stringify({ paths: report.paths, findings: report.findings, skipped: report.skipped }).replace(/bench\/out\/dump-\d+MB(-without-noise)?\.yaml/g, 'dump');
}

export function explainDumpBench(sizesArg: string): void {
  const libDir = path.resolve(ROOT, arg('lib', path.join('lib', 'src')));
  if (!fs.existsSync(path.join(libDir, 'cli.js'))) {
    console.log('lib/ is missing: compiling with jsii first');
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: 'inherit' });
  }
  const worker = transpileWorker(libDir);
  const reps = Number(arg('reps', '1'));
  const sizes = sizesArg.split(',').map(Number);
  console.log(`explain --json over cluster dumps (median of ${reps}; ${os.cpus().length} cores, load average before: ${loadAverage()})`);
  console.log(`targets: 500 MB < ${TARGETS.seconds} s and < ${TARGETS.peakRssMiB} MiB peak RSS; report < ${TARGETS.reportMiB} MB; 50 -> 500 MB time <= ${TARGETS.timeGrowth}x, peak RSS <= ${TARGETS.rssGrowth}x`);
  const rows = [];
  for (const mib of sizes) {
    const { file, counts } = dumpFile(mib, true);
    const reportFile = path.join(OUT_DIR, `dump-${mib}MB.report.json`);
    const samples = Array.from({ length: reps }, () => runWorker(worker, file, reportFile));
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf-8'));
    const row = {
      mib, bytes: counts.bytes, counts, ms: median(samples.map(s => s.ms)), peakRssMiB: median(samples.map(s => s.peakRssMiB)), exitCode: samples[0].exitCode,
      reportBytes: samples[0].outBytes, paths: report.paths.length, workloads: workloads(report), northSouth: northSouth(report), skippedListed: report.skipped.length,
      skippedKinds: report.skippedKinds ?? {}, loadAverage: loadAverage(), samples,
    };
    rows.push(row);
    const expected = counts.deployments + counts.barePodGroups;
    console.log(`${String(mib).padStart(4)} MB  ${(row.ms / 1000).toFixed(2).padStart(6)} s  ${row.peakRssMiB.toFixed(0).padStart(5)} MiB peak RSS  ${(row.ms / (row.bytes / MIB)).toFixed(0).padStart(4)} ms/MB  `
      + `report ${(row.reportBytes / MIB).toFixed(2)} MB, ${row.paths} paths over ${row.workloads} workloads (expected ${expected}: ${counts.deployments} Deployments + ${counts.barePodGroups} bare-pod groups; ${row.northSouth} from the gateway), `
      + `${counts.pods} pods, ${counts.noiseObjects} noise objects counted (${Object.entries(row.skippedKinds).map(([k, n]) => `${n} ${k}`).join(', ')}), exit ${row.exitCode}, load ${row.loadAverage}`);
    fs.rmSync(file);
  }
  if (rows.length > 1) {
    const [first, last] = [rows[0], rows[rows.length - 1]];
    console.log(`${first.mib} -> ${last.mib} MB (${(last.bytes / first.bytes).toFixed(1)}x the bytes): time ${(last.ms / first.ms).toFixed(2)}x, peak RSS ${(last.peakRssMiB / first.peakRssMiB).toFixed(2)}x, per-MB time ${((last.ms / last.bytes) / (first.ms / first.bytes)).toFixed(2)}x`);
  }
  let cleanCheck: { same: boolean; mib: number } | undefined;
  if (process.argv.includes('--clean-check')) {
    const mib = sizes[sizes.length - 1];
    const { file } = dumpFile(mib, false);
    const reportFile = path.join(OUT_DIR, `dump-${mib}MB-without-noise.report.json`);
    runWorker(worker, file, reportFile);
    const same = comparable(JSON.parse(fs.readFileSync(reportFile, 'utf-8'))) === comparable(JSON.parse(fs.readFileSync(path.join(OUT_DIR, `dump-${mib}MB.report.json`), 'utf-8')));
    console.log(`${mib} MB with and without the noise kinds: ${same ? 'the same report' : 'DIFFERENT reports'}`);
    cleanCheck = { same, mib };
    fs.rmSync(file);
  }
  const out = arg('out', path.join('bench', 'out', 'explain-dump-results.json'));
  fs.writeFileSync(path.resolve(ROOT, out), JSON.stringify({
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, reps, rows, cleanCheck,
  }, null, 2));
  console.log(`raw figures: ${out}`);
}
