/*
 * `npm run bench`: synth speed, peak memory and start-up of the library against a plain cdk8s baseline that
 * emits the identical manifests as ApiObjects, measured in the same run, alternating, with medians; and against the
 * library's own construct tree, which is measured twice (an A/A pair that shows the run's noise).
 * Usage: npm run bench -- [--reps 5] [--sizes 100,1000,5000] [--kinds gateway,workload] [--layouts all,100] [--heap-units 3000]
 *   [--out bench/out/results.json]
 * Or start-up only (the require row): npm run bench -- --startup-only [--reps 15]
 * Or library against tree as a median with its confidence interval: npm run bench -- --pairs 9 [--sizes 100,1000] [--kinds ...] [--layouts ...]
 * Or, to see where the time goes: npm run bench -- --diagnose [--reps 3] [--sizes 5000] [--kinds workload,gateway] [--layouts 100] [--modes library,tree]
 * Or explain over generated cluster dumps (bench/explain-dump-bench.ts): npm run bench -- --explain-dump 50,200,500 [--clean-check]
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { arg, median, medianInterval } from './args';
import { explainDumpBench } from './explain-dump-bench';

const ROOT = path.resolve(__dirname, '..');
/** Library against baseline, in time and memory, at every size and layout; and per-unit growth from the smallest N to the largest. */
const TARGET = 1.3;
/** The library's own code on top of its construct tree (the `tree` reference), in every cell (issue 24). */
const TREE_TARGET = 1.15;
/** Requiring the package against requiring cdk8s and cdk8s-plus-27 alone (issue 29). */
const STARTUP_TARGET = 1.2;
/**
 * The library; the baseline (the same manifests as plain ApiObjects); the library's construct tree with no library code;
 * and that tree again in a process of its own (`tree-again`), an A/A sample: nothing differs between the two tree
 * samples but the machine, so their ratio shows how far one cell's medians move by noise alone in this run.
 */
const MODES = ['library', 'baseline', 'tree', 'tree-again'];
const JS_DIR = path.join(ROOT, 'bench', 'out', 'js');

/**
 * The workers run as plain JavaScript, so that neither side pays for (or measures) the TypeScript compiler:
 * bench/*.ts is transpiled once and the library is used as users get it: the package's entry point (package.json
 * `main`, the bundle lib/index.js).
 */
function transpileBench(): void {
  fs.rmSync(JS_DIR, { recursive: true, force: true });
  fs.mkdirSync(JS_DIR, { recursive: true });
  for (const name of ['units', 'worker', 'heap-worker', 'phases-worker']) {
    const source = fs.readFileSync(path.join(__dirname, `${name}.ts`), 'utf-8').replace("'../src'", JSON.stringify(ROOT));
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    fs.writeFileSync(path.join(JS_DIR, `${name}.js`), js);
  }
}

interface Sample { readonly mode: string; readonly kind: string; readonly layout: string; readonly n: number; readonly ms: number; readonly peakRssMiB: number; readonly bytes: number }

/** YAML documents as JSON with sorted keys, so that key order does not count as a difference. */
function canonical(yaml: string): string {
  const sortKeys = (v: any): any => Array.isArray(v) ? v.map(sortKeys)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])])) : v;
  return JSON.stringify(parseAllDocuments(yaml).map(d => sortKeys(d.toJS())));
}

function ensureCompiled(): void {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
    console.log('lib/ is missing: compiling with jsii first');
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** The cells a run measures: `--kinds`, `--layouts` and `--sizes`, every combination, in that nesting. */
interface Cells { readonly kinds: string[]; readonly layouts: string[]; readonly sizes: number[] }

/** The measured runs' cells by default; `--diagnose` looks at fewer. */
const ALL_CELLS = { kinds: 'gateway,workload', layouts: 'all,100', sizes: '100,1000,5000' };

function cellsFromArgs(defaults: { kinds: string; layouts: string; sizes: string } = ALL_CELLS): Cells {
  return {
    kinds: arg('kinds', defaults.kinds).split(','),
    layouts: arg('layouts', defaults.layouts).split(','),
    sizes: arg('sizes', defaults.sizes).split(',').map(Number),
  };
}

/** True when a library/tree time ratio is within TREE_TARGET. */
function withinTreeTarget(ratio: number): boolean {
  return ratio <= TREE_TARGET;
}

/** Units per chart: "all" puts every unit in one chart; a number splits the app into charts of that many units. */
function unitsPerChart(layout: string): string {
  return layout === 'all' ? String(Number.MAX_SAFE_INTEGER) : layout;
}

function runWorker(mode: string, kind: string, layout: string, n: number): Sample {
  const workerMode = mode === 'tree-again' ? 'tree' : mode;
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', path.join(JS_DIR, 'worker.js'), workerMode, kind, String(n)], {
    cwd: ROOT, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BENCH_UNITS_PER_CHART: unitsPerChart(layout) },
  });
  if (r.status !== 0) throw new Error(`worker ${mode} ${kind} ${n} failed:\n${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), mode, layout };
}

interface HeapSample { readonly mode: string; readonly kind: string; readonly n: number; readonly builtKiB: number; readonly afterSynthKiB: number }

/** Live heap per unit (after a full GC), in a fresh process, 100 units per chart. */
function runHeapWorker(mode: string, kind: string, n: number): HeapSample {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', path.join(JS_DIR, 'heap-worker.js'), mode, kind, String(n)], {
    cwd: ROOT, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BENCH_UNITS_PER_CHART: '100' },
  });
  if (r.status !== 0) throw new Error(`heap worker ${mode} ${kind} ${n} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Wall time of `node -e <code>` in a fresh process, measured from inside (hrtime around the requires). */
function requireTime(code: string): number {
  const script = `const t=process.hrtime.bigint();${code};process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf-8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
}

/** Alternating fresh processes: the package's `require` time against cdk8s and cdk8s-plus-27's alone, in the same run. */
function measureStartup(reps: number): { libStartup: number[]; baseStartup: number[] } {
  const libStartup: number[] = [];
  const baseStartup: number[] = [];
  for (let i = 0; i < reps; i++) {
    libStartup.push(requireTime("require('./')"));
    baseStartup.push(requireTime("require('cdk8s');require('cdk8s-plus-27')"));
  }
  return { libStartup, baseStartup };
}

function printStartup(libStartup: number[], baseStartup: number[]): number {
  const ratio = median(libStartup) / median(baseStartup);
  console.log(`\nstart-up (median of ${libStartup.length}): require library ${median(libStartup).toFixed(1)} ms vs cdk8s + cdk8s-plus-27 ${median(baseStartup).toFixed(1)} ms: `
    + `${ratio.toFixed(2)}x (target <= ${STARTUP_TARGET}x: ${ratio <= STARTUP_TARGET ? 'met' : 'MISSED'})`);
  return ratio;
}

function startupRow(reps: number): void {
  ensureCompiled();
  const { libStartup, baseStartup } = measureStartup(reps);
  printStartup(libStartup, baseStartup);
}

interface PhaseSample {
  readonly mode: string; readonly walk: string; readonly gc: boolean; readonly buildMs: number; readonly validateMs: number; readonly chartsMs: number;
  readonly objectToJsonMs: number; readonly gcMs: number; readonly yamlMs: number; readonly totalMs: number; readonly peakRssMiB: number;
}

/**
 * Where the time of one size and layout goes, by phase, for the library, the tree references and the baseline, plus
 * two what-ifs (bench/phases-worker.ts): cdk8s walking the app once instead of once per chart, and a full collection
 * before the YAML is written. Medians of `reps` fresh processes each; nothing here is a target. `--modes` keeps the
 * rows of the modes it names. When the library and the tree both run per chart, a last line sets what the library's
 * first validation (the one trace and its findings) costs beyond the tree's against the tree's whole time: the 1.15x
 * target leaves 0.15 of it for all of the library's code.
 */
function diagnose(): void {
  const reps = Number(arg('reps', '3'));
  const { kinds, layouts, sizes } = cellsFromArgs({ kinds: 'workload,gateway', layouts: '100', sizes: '5000' });
  const modes = process.argv.includes('--modes') ? arg('modes', '').split(',') : undefined;
  const all: Array<[string, string, string]> = [
    ['library', 'per-chart', ''], ['tree', 'per-chart', ''], ['tree-classes', 'per-chart', ''], ['tree-shared-ids', 'per-chart', ''],
    ['tree-no-wrappers', 'per-chart', ''], ['baseline', 'per-chart', ''],
    ['library', 'once', ''], ['tree', 'once', ''], ['tree-no-wrappers', 'once', ''], ['baseline', 'once', ''],
    ['library', 'per-chart', 'gc'], ['tree', 'per-chart', 'gc'],
  ];
  const known = [...new Set(all.map(([mode]) => mode))];
  const unknown = (modes ?? []).filter(mode => !known.includes(mode));
  if (unknown.length > 0) throw new Error(`--modes ${unknown.join(',')} is not a diagnose mode: use some of ${known.join(',')}`);
  const configs = all.filter(([mode]) => modes === undefined || modes.includes(mode));
  console.log('medians (ms, MiB); validate = the app\'s first validation, which synthYaml() runs before the charts (the library\'s one trace and its findings);'
    + ' charts = cdk8s rendering the charts, walks included; objects = the toJson() of each object within it');
  for (const kind of kinds) {
    for (const layout of layouts) {
      for (const n of sizes) {
        console.log(`\n${kind} units/chart ${layout} N=${n}`);
        console.log('mode             walk       gc   build validate   charts  objects   yaml   total    RSS');
        const medians = new Map<string, { validateMs: number; totalMs: number }>();
        for (const [mode, walk, gc] of configs) {
          const samples: PhaseSample[] = [];
          for (let rep = 0; rep < reps; rep++) {
            const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', path.join(JS_DIR, 'phases-worker.js'), mode, kind, String(n), walk, gc], {
              cwd: ROOT, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BENCH_UNITS_PER_CHART: unitsPerChart(layout) },
            });
            if (r.status !== 0) throw new Error(`phases worker ${mode} ${kind} ${n} failed:\n${r.stderr}`);
            samples.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
          }
          const validateMs = median(samples.map(s => s.validateMs));
          const totalMs = median(samples.map(s => s.totalMs));
          const m = (f: (s: PhaseSample) => number) => median(samples.map(f)).toFixed(0).padStart(7);
          const ms = (value: number) => value.toFixed(0).padStart(7);
          console.log(`${mode.padEnd(16)} ${walk.padEnd(9)} ${(gc || '-').padEnd(3)} ${m(s => s.buildMs)}  ${ms(validateMs)} ${m(s => s.chartsMs)}  ${m(s => s.objectToJsonMs)} ${m(s => s.yamlMs)} ${ms(totalMs)} ${m(s => s.peakRssMiB)}`);
          if (walk === 'per-chart' && !gc) medians.set(mode, { validateMs, totalMs });
        }
        const library = medians.get('library');
        const tree = medians.get('tree');
        if (library && tree) {
          // The tree's validation is cdk8s's walk over constructs that have nothing to check: only the rest is the library's.
          const extra = library.validateMs - tree.validateMs;
          console.log(`the library's first validation costs ${extra.toFixed(0)} ms more than the tree's, ${(extra / tree.totalMs).toFixed(3)} of the tree's total time `
            + `(the ${TREE_TARGET}x target leaves ${(TREE_TARGET - 1).toFixed(2)} for all of the library's code); library/tree ${(library.totalMs / tree.totalMs).toFixed(2)}x`);
        }
      }
    }
  }
}

/**
 * `npm run bench -- --pairs K`: the library against its construct tree as an estimate with its uncertainty. Each of K
 * pairs runs the library and the tree in fresh processes, one after the other (the order alternates); the pair's
 * ratio cancels what drifts on the machine between pairs. The median of the K ratios and its confidence interval give
 * the verdict: met when the whole interval is within the target, MISSED when all of it is above, undecided otherwise.
 */
function pairsRow(): void {
  const pairs = Number(arg('pairs', '9'));
  const { kinds, layouts, sizes } = cellsFromArgs();
  const { lower, upper, coverage } = medianInterval(pairs);
  console.log(`library/tree time per pair of fresh processes, ${pairs} pairs per cell: median and its ${(coverage * 100).toFixed(0)}% interval`
    + ` (pair ratios number ${lower} and ${upper} of ${pairs}, sorted); target <= ${TREE_TARGET}x`);
  const cells = kinds.flatMap(kind => layouts.flatMap(layout => sizes.map(n => ({ kind, layout, n }))));
  const verdicts = cells.map(({ kind, layout, n }) => {
    const ratios: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? ['library', 'tree'] : ['tree', 'library'];
      const ms = Object.fromEntries(order.map(mode => [mode, runWorker(mode, kind, layout, n).ms]));
      ratios.push(ms.library / ms.tree);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    const low = sorted[lower - 1];
    const high = sorted[upper - 1];
    const verdict = withinTreeTarget(high) ? 'met' : !withinTreeTarget(low) ? 'MISSED' : 'undecided';
    console.log(`${kind.padEnd(9)} units/chart ${layout.padEnd(4)} N=${String(n).padEnd(5)} median ${median(ratios).toFixed(2)}x, `
      + `interval ${low.toFixed(2)}x to ${high.toFixed(2)}x: ${verdict} (pairs ${ratios.map(r => r.toFixed(2)).join(' ')})`);
    return verdict;
  });
  const count = (v: string) => verdicts.filter(x => x === v).length;
  console.log(`cells: ${count('met')} met, ${count('MISSED')} missed, ${count('undecided')} undecided (the interval straddles ${TREE_TARGET}x: more pairs narrow it)`);
}

function main(): void {
  if (process.argv.includes('--explain-dump')) {
    explainDumpBench(arg('explain-dump', '50,200,500'));
    return;
  }
  ensureCompiled();
  transpileBench();
  if (process.argv.includes('--diagnose')) {
    diagnose();
    return;
  }
  if (process.argv.includes('--pairs')) {
    pairsRow();
    return;
  }
  const reps = Number(arg('reps', '5'));
  if (process.argv.includes('--startup-only')) {
    startupRow(Math.max(reps, 7));
    return;
  }
  const { kinds, layouts, sizes } = cellsFromArgs();
  const out = arg('out', path.join('bench', 'out', 'results.json'));

  // The baseline must emit the same manifests (compared as objects: a JSON patch may order keys differently).
  for (const kind of kinds) {
    const synth = (builder: string) => spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(path.join(JS_DIR, 'units.js'))}).${builder}('${kind}', 3).synthYaml())`], { cwd: ROOT, encoding: 'utf-8' });
    const lib = synth('buildLibraryApp');
    for (const builder of ['buildBaselineApp', 'buildTreeApp']) {
      const other = synth(builder);
      if (lib.status !== 0 || other.status !== 0 || lib.stdout.length === 0 || canonical(lib.stdout) !== canonical(other.stdout)) {
        throw new Error(`${builder} for ${kind} does not emit the library's manifests:\n${lib.stderr}${other.stderr}`);
      }
    }
  }

  const samples: Sample[] = [];
  const pick = (kind: string, layout: string, n: number, mode: string, f: (s: Sample) => number) =>
    median(samples.filter(s => s.kind === kind && s.layout === layout && s.n === n && s.mode === mode).map(f));
  for (const kind of kinds) {
    for (const layout of layouts) {
      for (const n of sizes) {
        for (let rep = 0; rep < reps; rep++) {
          // Rotate which side goes first so that drift on the machine hits all alike.
          for (let k = 0; k < MODES.length; k++) samples.push(runWorker(MODES[(rep + k) % MODES.length], kind, layout, n));
        }
        const figures = (mode: string) => `${pick(kind, layout, n, mode, s => s.ms).toFixed(0).padStart(7)} ms ${pick(kind, layout, n, mode, s => s.peakRssMiB).toFixed(0).padStart(5)} MiB`;
        console.log(`${kind.padEnd(9)} units/chart ${layout.padEnd(4)} N=${String(n).padEnd(5)} library ${figures('library')} | tree ${figures('tree')} | baseline ${figures('baseline')} | tree again ${figures('tree-again')}`);
      }
    }
  }

  const { libStartup, baseStartup } = measureStartup(Math.max(reps, 7));

  const rows = [];
  console.log(`\nlibrary against baseline (the target: time and memory <= ${TARGET}x); tree against baseline (what the library's construct tree costs cdk8s,
with no library code); library against tree (what the library's own code costs); tree again against tree (the same
construct tree in other processes of this run: how far a cell's time ratio moves by the machine's noise alone)`);
  console.log(`kind      units/chart N      time ratio  memory ratio  per-unit ms (library)  target | tree/baseline time, memory | library/tree time, memory (target <= ${TREE_TARGET}x) | tree again/tree time`);
  for (const kind of kinds) {
    for (const layout of layouts) {
      for (const n of sizes) {
        const row = {
          kind, layout, n,
          libraryMs: pick(kind, layout, n, 'library', s => s.ms), baselineMs: pick(kind, layout, n, 'baseline', s => s.ms),
          libraryMiB: pick(kind, layout, n, 'library', s => s.peakRssMiB), baselineMiB: pick(kind, layout, n, 'baseline', s => s.peakRssMiB),
          treeMs: pick(kind, layout, n, 'tree', s => s.ms), treeMiB: pick(kind, layout, n, 'tree', s => s.peakRssMiB),
          treeAgainMs: pick(kind, layout, n, 'tree-again', s => s.ms),
        };
        rows.push(row);
        const timeRatio = row.libraryMs / row.baselineMs;
        const memRatio = row.libraryMiB / row.baselineMiB;
        const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
        console.log(`${kind.padEnd(9)} ${layout.padEnd(11)} ${String(n).padEnd(6)} ${timeRatio.toFixed(2).padStart(10)}x ${memRatio.toFixed(2).padStart(12)}x ${(row.libraryMs / n).toFixed(3).padStart(20)}   ${(timeRatio <= TARGET && memRatio <= TARGET ? 'met' : 'MISSED').padEnd(6)} | ${x(row.treeMs, row.baselineMs).padStart(13)}, ${x(row.treeMiB, row.baselineMiB).padStart(5)}         | ${x(row.libraryMs, row.treeMs).padStart(12)}, ${x(row.libraryMiB, row.treeMiB).padStart(5)} ${(withinTreeTarget(row.libraryMs / row.treeMs) ? 'met' : 'MISSED').padEnd(6)} | ${x(row.treeAgainMs, row.treeMs).padStart(9)}`);
      }
      const first = rows.find(r => r.kind === kind && r.layout === layout && r.n === sizes[0])!;
      const last = rows.find(r => r.kind === kind && r.layout === layout && r.n === sizes[sizes.length - 1])!;
      const growth = (last.libraryMs / last.n) / (first.libraryMs / first.n);
      console.log(`${kind.padEnd(9)} ${layout.padEnd(11)} per-unit cost growth N=${first.n} -> N=${last.n}: ${growth.toFixed(2)}x (target <= ${TARGET}x: ${growth <= TARGET ? 'met' : 'MISSED'})`);
    }
  }
  // The A/A spread: the farthest the same tree's medians landed from each other in one cell, either way.
  const noise = Math.max(...rows.map(r => Math.max(r.treeAgainMs / r.treeMs, r.treeMs / r.treeAgainMs)));
  const met = rows.filter(r => withinTreeTarget(r.libraryMs / r.treeMs)).length;
  console.log(`library/tree within ${TREE_TARGET}x in ${met} of ${rows.length} cells; the same tree measured twice differed by up to ${noise.toFixed(2)}x in one cell of this run`);
  // Deterministic (no timing), so one sample per side is enough.
  const heapUnits = Number(arg('heap-units', '3000'));
  const heap: HeapSample[] = [];
  console.log(`\nlive heap per unit after a full GC (KiB, N=${heapUnits}, 100 units per chart): built / after synthYaml`);
  for (const kind of kinds) {
    const library = runHeapWorker('library', kind, heapUnits);
    const baseline = runHeapWorker('baseline', kind, heapUnits);
    const tree = runHeapWorker('tree', kind, heapUnits);
    heap.push(library, baseline, tree);
    const kib = (h: HeapSample) => `${h.builtKiB.toFixed(2)} / ${h.afterSynthKiB.toFixed(2)}`;
    console.log(`${kind.padEnd(9)} library ${kib(library)} | tree ${kib(tree)} | baseline ${kib(baseline)} | library/baseline ${(library.builtKiB / baseline.builtKiB).toFixed(2)}x / ${(library.afterSynthKiB / baseline.afterSynthKiB).toFixed(2)}x`);
  }

  const startupRatio = printStartup(libStartup, baseStartup);

  fs.mkdirSync(path.dirname(path.resolve(ROOT, out)), { recursive: true });
  fs.writeFileSync(path.resolve(ROOT, out), JSON.stringify({
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    reps, sizes, layouts, rows, samples, heap, startup: { libraryMs: libStartup, baselineMs: baseStartup, ratio: startupRatio },
  }, null, 2));
  console.log(`raw figures: ${out}`);
}

main();
