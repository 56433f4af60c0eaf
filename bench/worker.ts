/*
 * One measured run in a fresh process: build an app of N units with the library or with the plain
 * ApiObject baseline, synthesise it to YAML in memory, and print wall time and peak RSS as JSON.
 */
import { performance } from 'perf_hooks';
import { buildApp, UnitKind } from './units';

function main(): void {
  const [mode, kind, nText] = process.argv.slice(2);
  const n = Number(nText);
  const started = performance.now();
  const app = buildApp(mode, kind as UnitKind, n);
  const yaml = app.synthYaml();
  const ms = performance.now() - started;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ mode, kind, n, ms, peakRssMiB, bytes: yaml.length }) + '\n');
}

main();
