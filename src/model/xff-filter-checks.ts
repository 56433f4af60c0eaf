import { Finding, FindingSeverity } from './findings';
import { SidecarXffMode, XffFilterScope } from './model';
import { formatLabels, Labels, selectorsMayOverlap } from './selectors';
import { entryOf, tupleKey } from '../util/keys';

/*
 * Sidecar XFF filters as plain data, and the check that no two of them MERGE different settings into one sidecar's
 * connection manager: XffSidecarFilter runs it on the app's filters (errors fail synthesis), `explain` on the
 * EnvoyFilters it read, so both report the same finding for the same objects.
 */

/** What an EnvoyFilter MERGEs into the sidecars' inbound HTTP connection manager, as the check sees it. */
export interface XffFilterSettingsModel {
  readonly mode: SidecarXffMode;
  /** TRUSTED_HOPS only; undefined when it cannot be resolved. */
  readonly hops?: number;
  /** TRUSTED_CIDRS only, in the order written. */
  readonly cidrs: string[];
  /** True when the settings cannot be known (a construct reports that on its own). */
  readonly unresolved?: boolean;
}

/** An EnvoyFilter patch that sets the client address on sidecars' inbound listener (one per patch). */
export interface XffFilterModel {
  /** `metadata.name` of the EnvoyFilter. */
  readonly name: string;
  readonly namespace: string;
  /** The mesh root namespace: a filter there reaches every namespace. */
  readonly rootNamespace: string;
  /** `workloadSelector.labels`; empty for every pod the filter reaches. */
  readonly selector: Labels;
  /** `match.listener.portNumber` (a pod port); undefined for every inbound port. */
  readonly portNumber?: number;
  readonly settings: XffFilterSettingsModel;
}

/** Where a finding about `filter` is reported. */
export function xffFilterWhere(filter: XffFilterModel): string {
  return `EnvoyFilter ${filter.namespace}/${filter.name}`;
}

/** Which sidecars the filter changes, read from its namespace and selector. */
export function xffFilterScopeOf(filter: XffFilterModel): XffFilterScope {
  if (Object.keys(filter.selector).length > 0) return XffFilterScope.WORKLOAD;
  return filter.namespace === filter.rootNamespace ? XffFilterScope.MESH : XffFilterScope.NAMESPACE;
}

/** Every overlap of `filters`, for each filter in order. */
export function checkXffFilterOverlaps(filters: readonly XffFilterModel[]): Finding[] {
  return xffFilterOverlaps(filters).flat();
}

/**
 * The overlap findings of each filter (same order as `filters`): two filters on the same sidecar port MERGE into one
 * connection manager, and unless they set the same thing the result is neither (Envoy rejects detection extensions
 * mixed with trusted hops or use_remote_address).
 */
export function xffFilterOverlaps(filters: readonly XffFilterModel[]): Finding[][] {
  const candidates = new OverlapCandidates(filters);
  return filters.map(filter => overlapsOf(filter, candidates.of(filter)));
}

function overlapsOf(filter: XffFilterModel, candidates: readonly XffFilterModel[]): Finding[] {
  // Most filters are their selector's only one: nothing to compare.
  if (candidates.length === 1 && candidates[0] === filter) return [];
  return candidates
    .filter(other => other !== filter && mayShareSidecar(filter, other) && portsMayOverlap(filter.portNumber, other.portNumber))
    .filter(other => !sameSettings(filter.settings, other.settings))
    .map(other => ({
      severity: FindingSeverity.ERROR,
      where: xffFilterWhere(filter),
      message: `filters "${filter.namespace}/${filter.name}" (${describe(filter)}) and "${other.namespace}/${other.name}" (${describe(other)}) may select the same sidecar port with different settings: `
        + 'their MERGEs combine into one connection manager (Envoy rejects detection extensions mixed with trusted hops or use_remote_address)',
      fix: 'keep one setting per workload and port, or give them disjoint selectors, namespaces or portNumber',
    }));
}

/**
 * The filters that might reach a pod another one reaches, without comparing every pair: in one namespace two
 * selectors with the same keys overlap only when they are equal, so only filters with the same selector, with
 * other keys (usually few), or in a root namespace need a look.
 */
class OverlapCandidates {
  private readonly rootWide: XffFilterModel[] = [];
  private readonly bySelector = new Map<string, XffFilterModel[]>();
  private readonly byKeySet = new Map<string, Map<string, XffFilterModel[]>>();
  /** Each filter's key set and selector list (as `bySelector` files it), computed once. */
  private readonly keysOf = new Map<XffFilterModel, { readonly keySet: string; readonly sameSelector: XffFilterModel[] }>();

  constructor(private readonly all: readonly XffFilterModel[]) {
    for (const f of all) {
      if (f.namespace === f.rootNamespace) this.rootWide.push(f);
      const keys = Object.keys(f.selector).sort();
      const keySet = keys.join(',');
      const sameSelector = entryOf(this.bySelector, tupleKey(f.namespace, ...keys.flatMap(k => [k, f.selector[k]])), () => []);
      sameSelector.push(f);
      entryOf(entryOf(this.byKeySet, f.namespace, () => new Map()), keySet, () => []).push(f);
      this.keysOf.set(f, { keySet, sameSelector });
    }
  }

  public of(filter: XffFilterModel): readonly XffFilterModel[] {
    if (filter.namespace === filter.rootNamespace) return this.all;
    const { keySet, sameSelector } = this.keysOf.get(filter)!;
    const others: XffFilterModel[] = [];
    for (const [keys, filed] of this.byKeySet.get(filter.namespace) ?? []) if (keys !== keySet) others.push(...filed);
    for (const f of this.rootWide) if (f.namespace !== filter.namespace) others.push(f);
    return others.length === 0 ? sameSelector : [...sameSelector, ...others];
  }
}

function mayShareSidecar(a: XffFilterModel, b: XffFilterModel): boolean {
  const namespacesMeet = a.namespace === b.namespace || a.namespace === a.rootNamespace || b.namespace === b.rootNamespace;
  return namespacesMeet && selectorsMayOverlap(a.selector, b.selector);
}

function portsMayOverlap(a?: number, b?: number): boolean {
  return a === undefined || b === undefined || a === b;
}

/** True when both set the same fields; settings that cannot be known (reported on their own) never match. */
function sameSettings(a: XffFilterSettingsModel, b: XffFilterSettingsModel): boolean {
  if (a.unresolved || b.unresolved) return false;
  return a.mode === b.mode && a.hops === b.hops && JSON.stringify(a.cidrs) === JSON.stringify(b.cidrs);
}

function describe(filter: XffFilterModel): string {
  const scope = xffFilterScopeOf(filter);
  return `${filter.settings.mode} in ${filter.namespace}, ${scope === XffFilterScope.WORKLOAD ? formatLabels(filter.selector) : `scope ${scope}`}`;
}
