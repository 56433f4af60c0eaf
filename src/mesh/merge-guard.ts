/*
 * istio/istio#18169: in an EnvoyFilter MERGE, a false boolean or a zero number never overrides what is already
 * there (proto merge skips zero values), so such a patch is a silent no-op. Every MERGE value this library emits
 * passes through `assertMergeSetsNoZero`. List elements are exempt: a MERGE appends them whole, so their fields
 * are written as given (e.g. `skip_xff_append: false` inside a new original-IP-detection extension).
 */

/** JSON paths of every `false` or `0` in `value` that a MERGE would silently ignore. */
export function zeroValuesInMerge(value: unknown, path = 'value'): string[] {
  if (value === false || value === 0) return [path];
  if (Array.isArray(value) || value === null || typeof value !== 'object') return [];
  return Object.entries(value as { [key: string]: unknown }).flatMap(([key, child]) => zeroValuesInMerge(child, `${path}.${key}`));
}

/** Throws when a MERGE value would set a boolean to false or a number to zero. */
export function assertMergeSetsNoZero(value: unknown, what: string): void {
  const paths = zeroValuesInMerge(value);
  if (paths.length > 0) {
    throw new Error(`${what}: MERGE cannot set ${paths.join(', ')} to false or 0: Istio silently ignores zero values in a MERGE (istio/istio#18169); leave the field out to keep the proxy's default`);
  }
}
