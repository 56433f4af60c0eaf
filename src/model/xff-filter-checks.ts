import { Finding, FindingSeverity } from './findings';
import { SidecarXffMode, XffFilterScope } from './model';
import { formatLabels, Labels, selectorsMayOverlap } from './selectors';

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
  return filters.map(filter => candidates.of(filter)
    .filter(other => other !== filter && mayShareSidecar(filter, other) && portsMayOverlap(filter.portNumber, other.portNumber))
    .filter(other => !sameSettings(filter.settings, other.settings))
    .map(other => ({
      severity: FindingSeverity.ERROR,
      where: xffFilterWhere(filter),
      message: `filters "${filter.namespace}/${filter.name}" (${describe(filter)}) and "${other.namespace}/${other.name}" (${describe(other)}) may select the same sidecar port with different settings: `
        + 'their MERGEs combine into one connection manager (Envoy rejects detection extensions mixed with trusted hops or use_remote_address)',
      fix: 'keep one setting per workload and port, or give them disjoint selectors, namespaces or portNumber',
    })));
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

  constructor(private readonly all: readonly XffFilterModel[]) {
    for (const f of all) {
      if (f.namespace === f.rootNamespace) this.rootWide.push(f);
      push(this.bySelector, selectorKey(f), f);
      let keySets = this.byKeySet.get(f.namespace);
      if (!keySets) {
        keySets = new Map();
        this.byKeySet.set(f.namespace, keySets);
      }
      push(keySets, keySetOf(f), f);
    }
  }

  public of(filter: XffFilterModel): readonly XffFilterModel[] {
    if (filter.namespace === filter.rootNamespace) return this.all;
    const mine = keySetOf(filter);
    const otherKeys = [...(this.byKeySet.get(filter.namespace) ?? new Map<string, XffFilterModel[]>()).entries()]
      .filter(([keys]) => keys !== mine).flatMap(([, fs]) => fs);
    const elsewhere = this.rootWide.filter(f => f.namespace !== filter.namespace);
    return [...(this.bySelector.get(selectorKey(filter)) ?? []), ...otherKeys, ...elsewhere];
  }
}

function keySetOf(filter: XffFilterModel): string {
  return Object.keys(filter.selector).sort().join(',');
}

function selectorKey(filter: XffFilterModel): string {
  return `${filter.namespace}\u0000${Object.keys(filter.selector).sort().map(k => `${k}=${filter.selector[k]}`).join(',')}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
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
