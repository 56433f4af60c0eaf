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
