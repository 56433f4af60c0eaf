/*
 * Label-selector arithmetic shared by the mesh constructs (internal, not part of the public API).
 */

/** True when every label of `selector` is on the pod (an empty selector selects every pod). */
export function selectorMatches(selector: { [key: string]: string }, podLabels: { [key: string]: string }): boolean {
  return Object.entries(selector).every(([key, value]) => podLabels[key] === value);
}

/** True when some pod could carry both selectors' labels: no key asks for two different values. */
export function selectorsMayOverlap(a: { [key: string]: string }, b: { [key: string]: string }): boolean {
  return Object.entries(a).every(([key, value]) => b[key] === undefined || b[key] === value);
}

/** `{a: "1", b: "2"}` as `a=1,b=2` for messages. */
export function formatLabels(labels: { [key: string]: string }): string {
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  return text === '' ? '(every pod)' : text;
}
