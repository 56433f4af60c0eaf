/**
 * One map key for a tuple of strings, each part prefixed by its length so that no two different tuples share a key
 * (a separator character could appear inside a part). Cheaper than `JSON.stringify([...])` on hot paths.
 */
export function tupleKey(...parts: string[]): string {
  let key = '';
  for (const part of parts) {
    const text = String(part);
    key += `${text.length}:${text}`;
  }
  return key;
}

/** A map as `entryOf` uses it: a `Map` or a `WeakMap`. */
export interface KeyedStore<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
}

/** The value of `key` in `store`, made by `make` and kept there when it has none. */
export function entryOf<K, V>(store: KeyedStore<K, V>, key: K, make: () => V): V {
  let value = store.get(key);
  if (value === undefined) {
    value = make();
    store.set(key, value);
  }
  return value;
}
