import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';

/** A generated L1 class: its group, version and kind, and the props its constructor types. */
export interface L1Class<P> {
  readonly GVK: GroupVersionKind;
  new (scope: Construct, id: string, props: P): ApiObject;
}

/**
 * An object whose manifest the library writes itself, typed at the call site by the props of the generated L1 class
 * of its kind but created as a plain ApiObject of that kind.
 *
 * Why not the L1 class: its `toJson()` runs a generated conversion over the whole resolved manifest at every
 * synthesis, renaming fields from their TypeScript names and unwrapping IntOrString and Quantity values. The
 * library writes every field under its API name and uses no IntOrString or Quantity in these objects (the L1 stays
 * where it does: the gateway Service and PodDisruptionBudget), so the conversion would change nothing, yet it cost
 * about a tenth of a gateway's synthesis time and memory in `npm run bench`. The tests run the conversion over every
 * such manifest of the example app and of every case the property suite accepts, and require that it changes nothing
 * (test/harness/l1-conversion.ts).
 */
export class LibraryManifest extends ApiObject {
  /** Creates the object of `l1`'s kind with `props`, checked against `l1`'s props type. */
  public static render<P extends { readonly metadata?: ApiObjectMetadata }>(scope: Construct, id: string, l1: L1Class<P>, props: P): LibraryManifest {
    return new LibraryManifest(scope, id, { ...l1.GVK, ...props });
  }
}
