/*
 * One diagnostic run in a fresh process (`npm run bench -- --diagnose`): where the time of `app.synthYaml()` goes,
 * split into building the app, the app's first validation (which `synthYaml()` runs once before the charts: for the
 * library, the one trace and its findings), rendering the charts (cdk8s's dependency and validation walks plus each
 * object's `toJson()`) and writing the YAML, with the process peak RSS.
 *
 * Two what-ifs, never used by the measured bench: `once` renders each chart without cdk8s's per-chart walks over the
 * whole app (what cdk8s would cost if `synthYaml()` validated the app once, as it already does before the charts),
 * and `gc` runs a full collection between rendering and writing (needs --expose-gc).
 */
import { performance } from 'perf_hooks';
import { ApiObject, App, Chart, DependencyGraph, Yaml } from 'cdk8s';
import { buildApp, UnitKind } from './units';

/** The app's validation, once, as `synthYaml()` runs it before the charts (the units add no dependencies to resolve). */
function validateAppOnce(app: App): void {
  const errors = app.node.findAll().flatMap(c => c.node.validate().map(e => `[${c.node.path}] ${e}`));
  if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
}

/** The objects of one chart in dependency order, as cdk8s renders them, without the walks over the whole app. */
function renderChartWithoutAppWalks(chart: Chart): any[] {
  return new DependencyGraph(chart.node).topology()
    .filter((x): x is ApiObject => x instanceof ApiObject)
    .filter(x => Chart.of(x) === chart)
    .map(x => x.toJson());
}

function main(): void {
  const [mode, kind, nText, walk, gcText] = process.argv.slice(2);
  const n = Number(nText);
  let objectMs = 0;
  // One depth for every wrapper: a class's toJson that calls its base class's (a library object, an L1 class) is one
  // object, timed once at the outermost call.
  let depth = 0;
  const timeObjectToJson = (proto: any) => {
    const original = proto.toJson;
    proto.toJson = function toJson(this: ApiObject) {
      const started = depth++ === 0 ? performance.now() : -1;
      try {
        return original.call(this);
      } finally {
        depth--;
        if (started >= 0) objectMs += performance.now() - started;
      }
    };
  };

  const t0 = performance.now();
  const app: App = buildApp(mode, kind as UnitKind, n);
  const t1 = performance.now();
  // Every ApiObject class in the app (the L1 classes override toJson), timed once at the outermost call.
  new Set(app.node.findAll().filter(c => c instanceof ApiObject).map(c => Object.getPrototypeOf(c))).forEach(timeObjectToJson);
  // As synthYaml() does before the charts; the charts' own walks then find every construct's validation done.
  validateAppOnce(app);
  const tValidated = performance.now();
  // The objects rendered while validating are counted under validate, not under charts.
  const objectMsInValidation = objectMs;
  const docs: any[] = [];
  for (const chart of app.charts) docs.push(...(walk === 'once' ? renderChartWithoutAppWalks(chart) : chart.toJson()));
  const t2 = performance.now();
  if (gcText === 'gc') (globalThis as { gc?: () => void }).gc!();
  const t3 = performance.now();
  const yaml = Yaml.stringify(...docs);
  const t4 = performance.now();
  process.stdout.write(JSON.stringify({
    mode, kind, n, walk, gc: gcText === 'gc',
    buildMs: t1 - t0, validateMs: tValidated - t1, chartsMs: t2 - tValidated, objectToJsonMs: objectMs - objectMsInValidation, gcMs: t3 - t2, yamlMs: t4 - t3, totalMs: t4 - t0,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, bytes: yaml.length,
  }) + '\n');
}

main();
