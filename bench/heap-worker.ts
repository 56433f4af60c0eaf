/*
 * Live heap per unit in a fresh process (run with --expose-gc): heap used after a full collection, before and
 * after `app.synthYaml()`, divided by N. It is what the collector marks again and again while the YAML is written,
 * so it drives both the collection time and the peak memory of large apps.
 */
import { buildApp, UnitKind } from './units';

function liveHeapBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap-worker needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function main(): void {
  const [mode, kind, nText] = process.argv.slice(2);
  const n = Number(nText);
  const before = liveHeapBytes();
  const app = buildApp(mode, kind as UnitKind, n);
  const built = liveHeapBytes();
  const yaml = app.synthYaml();
  const synthesised = liveHeapBytes();
  const perUnitKiB = (bytes: number) => bytes / n / 1024;
  process.stdout.write(JSON.stringify({
    mode, kind, n, builtKiB: perUnitKiB(built - before), afterSynthKiB: perUnitKiB(synthesised - before), bytes: yaml.length,
  }) + '\n');
}

main();
