import { ApiObject, App, ImplicitTokenResolver, LazyResolver, NumberStringUnionResolver } from 'cdk8s';

/*
 * Reading a few plain fields of a user's ApiObject without resolving it. `toJson()` resolves the whole object (every
 * resolver on every value), sorts every key and deep-copies the result for its JSON patches: for a TproxyWorkload on a
 * user's Deployment that was most of what the construct cost (`npm run bench`). When nothing can change what the
 * object was given, the fields are read as written, and `toJson()` stays the answer for everything else.
 */

/**
 * The object's `spec` as the user wrote it, when `toJson()` would give its plain parts unchanged: a plain `ApiObject`
 * (not a subclass: a generated L1 class converts its fields in `toJson()`), no JSON patch, only cdk8s's own resolvers
 * in the app. Undefined when any of that does not hold (then read `toJson()`). What it holds is still the user's: read
 * it with `plainPath`, which stops where a resolver would replace a value.
 *
 * cdk8s keeps an ApiObject's props and patches in fields it does not publish (`props`, `patches`): when a cdk8s
 * release renames them, this returns undefined and the caller resolves the object as before.
 * test/mesh/written-spec.test.ts checks the answer against `toJson()`.
 */
export function writtenSpec(apiObject: ApiObject): { readonly spec: unknown } | undefined {
  if (Object.getPrototypeOf(apiObject) !== ApiObject.prototype) return undefined;
  const patches: unknown = Reflect.get(apiObject, 'patches');
  if (!Array.isArray(patches) || patches.length > 0) return undefined;
  if (!onlyBuiltInResolvers(apiObject)) return undefined;
  const props: unknown = Reflect.get(apiObject, 'props');
  return isPlainObject(props) ? { spec: props.spec } : undefined;
}

/**
 * The values along `path` from `value` (a written spec), each a plain object that `toJson()` gives unchanged; a missing
 * member ends the list early. Undefined when a value on the path is anything else (a `Lazy`, an implicit token, an
 * object without Object's prototype): then only `toJson()` tells.
 */
export function plainPath(value: unknown, path: readonly string[]): ReadonlyArray<{ readonly [key: string]: unknown }> | undefined {
  const values: Array<{ readonly [key: string]: unknown }> = [];
  for (let i = 0; ; i++) {
    if (value === undefined) return values;
    if (!isPlainObject(value)) return undefined;
    values.push(value);
    if (i === path.length) return values;
    value = value[path[i]];
  }
}

/**
 * A label map as `toJson()` gives it, when `value` is a plain object of strings (what the written spec holds most of
 * the time); undefined for a missing map; `false` when only resolving the object can tell.
 */
export function writtenLabels(value: unknown): { readonly [key: string]: string } | undefined | false {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return false;
  for (const v of Object.values(value)) if (typeof v !== 'string') return false;
  return value as { readonly [key: string]: string };
}

/**
 * A plain object that no cdk8s resolver replaces (an object with a `resolve` function is an implicit token) and that
 * `toJson()` renders (it refuses objects without Object's prototype).
 */
function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return typeof (value as { resolve?: unknown }).resolve !== 'function';
}

/** True when the app resolves values only with cdk8s's built-in resolvers, which leave plain strings and objects alone. */
function onlyBuiltInResolvers(apiObject: ApiObject): boolean {
  let resolvers: readonly unknown[];
  try {
    resolvers = App.of(apiObject).resolvers;
  } catch {
    return false;
  }
  return resolvers.every(r => r instanceof LazyResolver || r instanceof ImplicitTokenResolver || r instanceof NumberStringUnionResolver);
}
