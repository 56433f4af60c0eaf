import { IConstruct } from 'constructs';
import { appRootOf } from './app-root';

/** Construct metadata type under which this library records warnings (cdk8s has no `Annotations` API). */
const WARNING = 'warning';

/** Per app root, what records the warnings computed from the whole app (the trace) before they are read. */
const TRACE_REPORTERS = new WeakMap<IConstruct, () => void>();

/** Registers `report`, which records the app's computed warnings, to run before the warnings of `root` are read. @internal */
export function onWarningsRead(root: IConstruct, report: () => void): void {
  if (!TRACE_REPORTERS.has(root)) TRACE_REPORTERS.set(root, report);
}

/** A warning and the construct path that raised it. */
export interface SourceIpWarning {
  /** Path of the construct, e.g. "edge/Gateway". */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/**
 * Warnings the constructs raise for settings that work but may lose or expose the client address. They are
 * recorded as construct metadata of type `warning` (cdk8s 2.x has no `Annotations` class); read them with
 * `SourceIpWarnings.of(app)` and print or fail on them in your pipeline. When the app runs under `cdk8s synth`,
 * synthesis prints them to standard error itself, one line each.
 */
export class SourceIpWarnings {
  /** Records `message` on `scope`, once. */
  public static add(scope: IConstruct, message: string): void {
    if (!scope.node.metadata.some(m => m.type === WARNING && m.data === message)) {
      scope.node.addMetadata(WARNING, message);
      printedAtSynthesis(scope, message);
    }
  }

  /** Every warning raised by `scope` and the constructs under it, in construct order. */
  public static of(scope: IConstruct): SourceIpWarning[] {
    TRACE_REPORTERS.get(appRootOf(scope))?.();
    return scope.node.findAll().flatMap(c => c.node.metadata
      .filter(m => m.type === WARNING)
      .map(m => ({ path: c.node.path, message: String(m.data) })));
  }

  /** The messages of `SourceIpWarnings.of(scope)`, for tests and logs. */
  public static messages(scope: IConstruct): string[] {
    return SourceIpWarnings.of(scope).map(w => w.message);
  }

  private constructor() {
  }
}

/*
 * `cdk8s synth` shows the app's standard error but not its standard output, and runs no code of the library after
 * synthesis: so the warnings are printed to standard error from a validation on the app's root, which cdk8s runs at
 * `app.synth()` (and again for every chart it writes; each warning is printed once). Only under the cdk8s CLI, which
 * sets CDK8S_RECORD_CONSTRUCT_METADATA ("true" or "false") for every app it runs (cdk8s-cli lib/util.js `synthApp`):
 * tests and apps run directly read the warnings with `SourceIpWarnings.of(app)` instead.
 */
interface PendingWarnings {
  readonly warnings: SourceIpWarning[];
  printed: number;
}

const PENDING = new WeakMap<IConstruct, PendingWarnings | false>();

function printedAtSynthesis(scope: IConstruct, message: string): void {
  const root = appRootOf(scope);
  let pending = PENDING.get(root);
  if (pending === undefined) {
    pending = process.env.CDK8S_RECORD_CONSTRUCT_METADATA === undefined ? false : { warnings: [], printed: 0 };
    PENDING.set(root, pending);
    if (pending) {
      const state = pending;
      root.node.addValidation({ validate: () => printWarnings(state) });
    }
  }
  if (pending) pending.warnings.push({ path: scope.node.path, message });
}

function printWarnings(pending: PendingWarnings): string[] {
  for (; pending.printed < pending.warnings.length; pending.printed++) {
    const w = pending.warnings[pending.printed];
    process.stderr.write(`cdk8s-istio-source-ip: warning [${w.path}] ${w.message}\n`);
  }
  return [];
}
