/*
 * Label-selector arithmetic, once for the constructs, the checks and `explain` (internal, not public API).
 */

/** Labels as a plain map. */
export type Labels = { readonly [key: string]: string };

/**
 * True when every label of `selector` is on the pod (an empty selector selects every pod). The one selector
 * predicate: the indexes (src/trace/selector-index.ts, the XFF filter index of src/model/workload-model.ts) only
 * narrow the candidates and decide with this. Own labels only: a key such as "constructor" is not inherited.
 */
export function selectorMatches(selector: Labels, podLabels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => Object.prototype.hasOwnProperty.call(podLabels, key) && podLabels[key] === value);
}

/** True when some pod could carry both selectors' labels: no key asks for two different values. */
export function selectorsMayOverlap(a: Labels, b: Labels): boolean {
  return Object.entries(a).every(([key, value]) => b[key] === undefined || b[key] === value);
}

/** True when the two selectors are the same map, whatever the key order. */
export function sameSelector(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every(k => a[k] === b[k]);
}

/**
 * True when an object in `objectNamespace` (an EnvoyFilter, an AuthorizationPolicy) reaches pods in
 * `podNamespace`: the same namespace, or one of the mesh's root namespaces.
 */
export function namespaceReaches(objectNamespace: string, podNamespace: string, rootNamespaces: readonly string[]): boolean {
  return objectNamespace === podNamespace || rootNamespaces.includes(objectNamespace);
}

/** `{a: "1", b: "2"}` as `a=1,b=2` for messages. */
export function formatLabels(labels: Labels): string {
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  return text === '' ? '(every pod)' : text;
}

/**
 * True when an AuthorizationPolicy in `policyNamespace` reaches pods in `podNamespace`: one attached with
 * `targetRefs` names objects of its own namespace only; one with a selector also reaches every namespace from a root
 * namespace.
 */
export function policyReaches(policyNamespace: string, attachedByTargetRefs: boolean, podNamespace: string,
  rootNamespaces: readonly string[]): boolean {
  return attachedByTargetRefs ? policyNamespace === podNamespace : namespaceReaches(policyNamespace, podNamespace, rootNamespaces);
}
