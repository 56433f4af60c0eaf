import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { AMBIENT_MODE, DATAPLANE_MODE_LABEL } from './ambient';
import { InterceptionMode, ProxyRole, SidecarXffMode, WorkloadModel, XffFilterScope } from './model';
import { namespaceReaches, selectorMatches } from './selectors';
import { Derived, Topology, XffFilterMember } from './topology';
import { clusterKeyOf } from '../util/duplicate-objects';
import { entryOf, tupleKey } from '../util/keys';

/*
 * The workload model of meshed pods, the same for every construct that describes them (TproxyWorkload,
 * MeshWorkload, ProxyProtocolBackend): the interception mode, the sidecar XFF settings of whichever
 * XffSidecarFilter in the app reaches the pods, and PROXY protocol from a ProxyProtocolBackend that selects them
 * (internal).
 */

/** What a meshed workload knows about itself. */
export interface WorkloadIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly selector: { [key: string]: string };
  readonly podLabels: { [key: string]: string };
  readonly interceptionMode: InterceptionMode;
}

/** Pod Security Admission levels that reject istio-proxy's NET_ADMIN and root in TPROXY mode. */
const PSA_REJECTING_TPROXY = ['baseline', 'restricted'];
const PSA_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** XffSidecarFilters of one app, indexed so that finding the ones that reach a pod does not scan them all. */
interface FilterIndex {
  /** Filters in their root namespace: they may reach pods in any namespace. */
  readonly anyNamespace: XffFilterMember[];
  /** Filters without a selector (namespace-wide), per namespace. */
  readonly wholeNamespace: Map<string, XffFilterMember[]>;
  /** Filters with a selector, under the key of `namespace` and the first label of the selector (every pod they select has it). */
  readonly byLabel: Map<string, XffFilterMember[]>;
}


const XFF_FILTER_INDEX = new Derived<FilterIndex>('xff-filter-index');

function indexFilters(filters: readonly XffFilterMember[]): FilterIndex {
  const index: FilterIndex = { anyNamespace: [], wholeNamespace: new Map(), byLabel: new Map() };
  for (const f of filters) {
    const first = Object.keys(f.selector).sort()[0];
    if (f.namespace === f.rootNamespace) index.anyNamespace.push(f);
    else if (first === undefined) entryOf(index.wholeNamespace, f.namespace, () => []).push(f);
    else entryOf(index.byLabel, tupleKey(f.namespace, first, f.selector[first]), () => []).push(f);
  }
  return index;
}

/** True when the filter changes the sidecar of pods with `podLabels` in `namespace`. */
export function filterReaches(filter: XffFilterMember, namespace: string, podLabels: { [key: string]: string }): boolean {
  return namespaceReaches(filter.namespace, namespace, [filter.rootNamespace]) && selectorMatches(filter.selector, podLabels);
}

/** The app's XffSidecarFilters that may reach pods with these labels in `namespace` (a superset; check filterReaches). */
export function xffFilterCandidates(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): XffFilterMember[] {
  const topology = Topology.of(scope);
  const index = topology.derive(XFF_FILTER_INDEX, () => indexFilters(topology.xffFilters));
  const candidates: XffFilterMember[] = [];
  for (const key of Object.keys(podLabels)) {
    const filed = index.byLabel.get(tupleKey(namespace, key, podLabels[key]));
    if (filed) candidates.push(...filed);
  }
  candidates.push(...(index.wholeNamespace.get(namespace) ?? []), ...index.anyNamespace);
  return candidates;
}

/**
 * The XffSidecarFilters of the app that reach these pods, most specific first: a workload selector beats a
 * namespace-wide filter, which beats a mesh-wide one.
 */
export function xffFiltersFor(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): XffFilterMember[] {
  const candidates = xffFilterCandidates(scope, namespace, podLabels);
  if (candidates.length === 0) return candidates;
  // Charts declared alternatives are clusters of their own: another chart's filter never reaches these pods.
  const cluster = clusterKeyOf(scope);
  const reaching = candidates.filter(f => filterReaches(f, namespace, podLabels) && clusterKeyOf(f) === cluster);
  // Array.prototype.sort is stable: within a rank, filters keep their (deterministic) candidate order.
  return reaching.length > 1 ? reaching.sort((a, b) => SCOPE_RANK.indexOf(a.scope) - SCOPE_RANK.indexOf(b.scope)) : reaching;
}

/** Most specific first: a workload selector beats a namespace-wide filter, which beats a mesh-wide one. */
const SCOPE_RANK = [XffFilterScope.WORKLOAD, XffFilterScope.NAMESPACE, XffFilterScope.MESH];

/** True when a ProxyProtocolBackend or a SIDECAR_INBOUND PROXY listener filter makes the sidecars of these pods strip PROXY. */
function proxyProtocolReaches(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): boolean {
  const topology = Topology.of(scope);
  if (topology.proxyProtocolBackends.length === 0 && topology.proxyProtocolFilters.length === 0) return false;
  const cluster = clusterKeyOf(scope);
  return topology.proxyProtocolBackends.some(b => b.targetNamespace === namespace && selectorMatches(b.targetSelector, podLabels)
      && clusterKeyOf(b) === cluster)
    || topology.proxyProtocolFilters.some(f => f._stripsOnSidecarInbound && f.namespace === namespace && selectorMatches(f.selector, podLabels)
      && clusterKeyOf(f) === cluster);
}

/** Builds the model now (call it at synth time, after every filter exists). */
export function workloadModelFor(scope: IConstruct, identity: WorkloadIdentity): WorkloadModel {
  const filter = xffFiltersFor(scope, identity.namespace, identity.podLabels)[0];
  const base = {
    name: identity.name,
    namespace: identity.namespace,
    selector: { ...identity.selector },
    role: ProxyRole.SIDECAR,
    interceptionMode: identity.interceptionMode,
    ...(proxyProtocolReaches(scope, identity.namespace, identity.podLabels) ? { proxyProtocolPorts: [], proxyProtocolOnEveryPort: true } : {}),
  };
  // Object.assign, not a literal that starts with `...base`: see docs/ARCHITECTURE.md, "Object literals".
  if (!filter) return Object.assign(base, { xffMode: SidecarXffMode.DEFAULT });
  const settings = filter._xffSettings();
  return Object.assign(base, {
    xffMode: settings.mode,
    // An unresolvable hop count is reported by the filter's own validation; the model says "no hops" meanwhile.
    ...(settings.mode === SidecarXffMode.TRUSTED_HOPS ? { xffTrustedHops: settings.hops ?? 0 } : {}),
    ...(settings.mode === SidecarXffMode.TRUSTED_CIDRS ? { xffTrustedCidrs: settings.cidrs } : {}),
    ...(settings.mode === SidecarXffMode.CUSTOM_HEADER ? {
      clientHeaderName: settings.clientHeaderName,
      ...(settings.clientHeaderRejectStatus !== undefined ? { clientHeaderRejectStatus: settings.clientHeaderRejectStatus } : {}),
      ...(settings.onlyReachableThroughCdn === true ? { onlyReachableThroughCdn: true } : {}),
    } : {}),
    xffPorts: filter.portNumber !== undefined ? [filter.portNumber] : [],
  });
}

/**
 * The Namespace objects the user put in the app (a `kplus.Namespace` or a plain ApiObject of kind Namespace), in
 * tree order, from the app's one walk (`Topology.apiObjects()`).
 */
function namespaceObjects(scope: IConstruct): ApiObject[] {
  const topology = Topology.of(scope);
  // The user's constructs only: the library's own constructs register their Namespaces in the topology, and an object
  // under another ApiObject is not one the user placed in the app.
  return topology.apiObjects().filter(c => c.kind === 'Namespace' && c.apiVersion === 'v1'
    && !c.node.scopes.slice(0, -1).some(s => ApiObject.isApiObject(s) || topology.isMember(s)));
}

/** The Pod Security Admission `enforce` level that each Namespace object of the app gives its namespace. */
export function podSecurityLevels(scope: IConstruct): Map<string, { level: string; path: string }> {
  const levels = new Map<string, { level: string; path: string }>();
  for (const ns of namespaceObjects(scope)) {
    const level = ns.metadata.getLabel(PSA_ENFORCE_LABEL);
    if (level !== undefined && !levels.has(ns.name)) levels.set(ns.name, { level, path: ns.node.path });
  }
  return levels;
}

/** The namespaces the app puts in ambient mode (AmbientNamespace, or a Namespace labelled so), with the construct path. */
export function ambientNamespacePaths(scope: IConstruct): Map<string, string> {
  const paths = new Map<string, string>();
  for (const ns of Topology.of(scope).ambientNamespaces) paths.set(ns.namespaceName, ns.node.path);
  for (const ns of namespaceObjects(scope)) {
    if (ns.metadata.getLabel(DATAPLANE_MODE_LABEL) === AMBIENT_MODE && !paths.has(ns.name)) paths.set(ns.name, ns.node.path);
  }
  return paths;
}

/** True when the PSA level rejects istio-proxy with NET_ADMIN and runAsUser 0. */
export function rejectsTproxy(level: string): boolean {
  return PSA_REJECTING_TPROXY.includes(level);
}
