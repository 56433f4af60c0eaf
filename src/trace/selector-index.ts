import { Labels, selectorMatches } from '../model/selectors';
import { entryOf, tupleKey } from '../util/keys';

/*
 * Label-selector lookups in (near) constant time per object, so that explain stays linear in the number of
 * objects: matching every pod against every Service, EnvoyFilter, Gateway and policy was quadratic. The index only
 * narrows the candidates; whether a selector selects a pod is `selectorMatches` (src/model/selectors.ts), the one predicate.
 */

interface Entry<T> { readonly seq: number; readonly selector: Labels; readonly item: T }

/**
 * Items with a selector (Services, EnvoyFilters, policies), found by the labels of a pod: each item is filed under
 * one pair of its selector, or under "every pod" when its selector is empty.
 */
export class SelectorIndex<T> {
  private readonly everyPod = new Map<string, Array<Entry<T>>>();
  private readonly byPair = new Map<string, Array<Entry<T>>>();
  private seq = 0;

  /** Files `item`, which selects pods with `selector` in `namespace` (use "*" for every namespace). */
  public add(namespace: string, selector: Labels, item: T): void {
    const entry = { seq: this.seq++, selector, item };
    const keys = Object.keys(selector);
    if (keys.length === 0) entryOf(this.everyPod, namespace, () => []).push(entry);
    else entryOf(this.byPair, tupleKey(namespace, keys[0], selector[keys[0]]), () => []).push(entry);
  }

  /** The items in any of `namespaces` whose selector matches `labels`, in the order they were added. */
  public matching(namespaces: string[], labels: Labels): T[] {
    const found: Array<Entry<T>> = [];
    const keys = Object.keys(labels);
    for (const ns of new Set(namespaces)) {
      const everyPod = this.everyPod.get(ns);
      if (everyPod) found.push(...everyPod);
      for (const k of keys) {
        const filed = this.byPair.get(tupleKey(ns, k, labels[k]));
        if (filed) for (const e of filed) if (selectorMatches(e.selector, labels)) found.push(e);
      }
    }
    if (found.length > 1) found.sort((a, b) => a.seq - b.seq);
    return found.map(e => e.item);
  }
}

/** Pods (or workloads) by their labels, found by a selector such as a Service's. */
export class LabelIndex<T> {
  private readonly byNamespace = new Map<string, T[]>();
  private readonly byPair = new Map<string, Array<{ readonly labels: Labels; readonly item: T }>>();

  public add(namespace: string, labels: Labels, item: T): void {
    entryOf(this.byNamespace, namespace, () => []).push(item);
    for (const [k, v] of Object.entries(labels)) entryOf(this.byPair, tupleKey(namespace, k, v), () => []).push({ labels, item });
  }

  /** The items in `namespace` whose labels `selector` selects (every item for an empty selector). */
  public selectedBy(namespace: string, selector: Labels): T[] {
    const keys = Object.keys(selector);
    if (keys.length === 0) return this.byNamespace.get(namespace) ?? [];
    return (this.byPair.get(tupleKey(namespace, keys[0], selector[keys[0]])) ?? []).filter(e => selectorMatches(selector, e.labels)).map(e => e.item);
  }
}
