import { ApiObject, ApiObjectProps, GroupVersionKind, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/** A generated L1 class: its group, version and kind, and the props its constructor types. */
export interface L1Class<P> {
  readonly GVK: GroupVersionKind;
  new (scope: Construct, id: string, props: P): ApiObject;
}

/**
 * A generated L1 class's kind as `render` takes it: its group, version and kind at run time, and the class (for its
 * props type) at compile time only, so that rendering does not load the class's module (src/ingress/l1.ts).
 */
export interface L1Kind<C extends L1Class<any>> {
  readonly GVK: GroupVersionKind;
  readonly _l1Kind: true;
  /** Never set: carries the class's type. */
  readonly _class?: C;
}

/**
 * `P` with every IntOrString or Quantity value as the number or string it stands for, which is how the manifest
 * writes it, and every value of a string enum as its string (`'NETWORK_FILTER'`, not the generated
 * `EnvoyFilterSpecConfigPatchesApplyTo.NETWORK_UNDERSCORE_FILTER`). (The two classes have exactly the shape
 * `{ value }`, so the test in both directions finds them and nothing else.)
 */
export type ApiShaped<P> = P extends string ? `${P}` : P extends kplus.k8s.IntOrString | kplus.k8s.Quantity
  ? (kplus.k8s.IntOrString extends P ? number | string : P)
  : P extends ReadonlyArray<infer E> ? ApiShaped<E>[]
    : P extends object ? { readonly [K in keyof P]: ApiShaped<P[K]> } : P;

/**
 * An object whose manifest the library writes itself, typed at the call site by the props of the generated L1 class
 * of its kind but created as a plain ApiObject of that kind.
 *
 * Why not the L1 class: its `toJson()` runs a generated conversion over the whole resolved manifest at every
 * synthesis, renaming fields from their TypeScript names and unwrapping IntOrString and Quantity values. The
 * library writes every field under its API name and IntOrString and Quantity values as the plain numbers and strings
 * they stand for (`ApiShaped`), so the conversion would change nothing, yet it cost about a tenth of a gateway's
 * synthesis time and memory in `npm run bench`. The tests run the conversion over every such manifest of the example
 * app and of every case the property suite accepts, and require that it changes nothing (test/harness/l1-conversion.ts).
 */
export class LibraryManifest extends ApiObject {
  /**
   * Creates the object of `l1`'s kind with `props`, checked against `l1`'s props type (`ApiShaped`). `l1` is the L1
   * class, or its kind from src/ingress/l1.ts for a module the library does not load otherwise.
   */
  public static render<C extends L1Class<any>>(scope: Construct, id: string, l1: C | L1Kind<C>,
    props: ApiShaped<ConstructorParameters<C>[2]>): LibraryManifest {
    // Not `{ ...l1.GVK, ...props }`: this one spread sees every kind's props, and V8's spread at such a megamorphic site
    // gives each manifest a hidden class of its own (a gateway unit of `npm run bench` left about 25 more per unit in
    // the heap than its construct tree). Properties added in order share one transition tree per kind.
    const manifestProps: { [key: string]: unknown } = { apiVersion: l1.GVK.apiVersion, kind: l1.GVK.kind };
    for (const key of Object.keys(props)) manifestProps[key] = (props as { [key: string]: unknown })[key];
    const manifest = new LibraryManifest(scope, id, manifestProps as unknown as ApiObjectProps);
    WRITTEN_SPECS.set(manifest, (props as { spec?: unknown }).spec);
    return manifest;
  }

  /**
   * `spec` of `object` as the library wrote it, when the library rendered it and nothing has patched it since
   * (`addJsonPatch`): the same object the manifest resolves, so a reader that needs one plain field (a Service's
   * selector) can take it without resolving the whole manifest. Undefined otherwise: then only `toJson()` tells.
   * (A WeakMap, not `instanceof`: cdk8s's ApiObject answers `instanceof` for every ApiObject subclass alike.)
   *
   * @internal
   */
  public static _writtenSpecOf(object: ApiObject): unknown {
    return WRITTEN_SPECS.get(object);
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    WRITTEN_SPECS.delete(this);
    super.addJsonPatch(...ops);
  }
}

const WRITTEN_SPECS = new WeakMap<ApiObject, unknown>();
