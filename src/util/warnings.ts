import { IConstruct } from 'constructs';

/** Construct metadata type under which this library records warnings (cdk8s has no `Annotations` API). */
const WARNING = 'warning';

/** Per app root, what records the warnings computed from the whole app (the trace) before they are read. */
const PENDING = new WeakMap<IConstruct, () => void>();

/** Registers `report`, which records the app's computed warnings, to run before the warnings of `root` are read. @internal */
export function onWarningsRead(root: IConstruct, report: () => void): void {
  if (!PENDING.has(root)) PENDING.set(root, report);
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
 * `SourceIpWarnings.of(app)` and print or fail on them in your pipeline.
 */
export class SourceIpWarnings {
  /** Records `message` on `scope`, once. */
  public static add(scope: IConstruct, message: string): void {
    if (!scope.node.metadata.some(m => m.type === WARNING && m.data === message)) {
      scope.node.addMetadata(WARNING, message);
    }
  }

  /** Every warning raised by `scope` and the constructs under it, in construct order. */
  public static of(scope: IConstruct): SourceIpWarning[] {
    PENDING.get(scope.node.root)?.();
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
