import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { XffFilterScope, XffSidecarFilter } from './xff-sidecar-filter';
import { InterceptionMode, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';
import { derivedFromApp, isLibraryConstruct, XFF_FILTER_KIND } from '../util/app-registry';

/*
 * The workload model of a meshed workload, shared by TproxyWorkload and MeshWorkload: its interception mode plus
 * the sidecar XFF settings of whichever XffSidecarFilter in the app reaches its pods (internal).
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
  /** Filters in the root namespace: they may reach pods in any namespace. */
  readonly anyNamespace: XffSidecarFilter[];
  /** Filters without a selector (namespace-wide), per namespace. */
  readonly wholeNamespace: Map<string, XffSidecarFilter[]>;
  /** Filters with a selector, under `namespace`, NUL, and the first `key=value` of the selector (every pod they select has it). */
  readonly byLabel: Map<string, XffSidecarFilter[]>;
}

function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}\u0000${key}=${value}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexFilters(filters: XffSidecarFilter[]): FilterIndex {
  const index: FilterIndex = { anyNamespace: [], wholeNamespace: new Map(), byLabel: new Map() };
  for (const f of filters) {
    const first = Object.keys(f.selector).sort()[0];
    if (f.namespace === f.rootNamespace) index.anyNamespace.push(f);
    else if (first === undefined) push(index.wholeNamespace, f.namespace, f);
    else push(index.byLabel, labelKey(f.namespace, first, f.selector[first]), f);
  }
  return index;
}

/** The app's XffSidecarFilters that may reach pods with these labels in `namespace` (a superset; check appliesTo). */
export function xffFilterCandidates(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): XffSidecarFilter[] {
  const index = derivedFromApp(scope, XFF_FILTER_KIND, 'index', indexFilters);
  return [
    ...Object.entries(podLabels).flatMap(([k, v]) => index.byLabel.get(labelKey(namespace, k, v)) ?? []),
    ...(index.wholeNamespace.get(namespace) ?? []),
    ...index.anyNamespace,
  ];
}

/**
 * The XffSidecarFilters of the app that reach these pods, most specific first: a workload selector beats a
 * namespace-wide filter, which beats a mesh-wide one.
 */
export function xffFiltersFor(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): XffSidecarFilter[] {
  const rank = (f: XffSidecarFilter) => [XffFilterScope.WORKLOAD, XffFilterScope.NAMESPACE, XffFilterScope.MESH].indexOf(f.scope);
  return xffFilterCandidates(scope, namespace, podLabels)
    .filter(f => f.appliesTo(namespace, podLabels))
    // Array.prototype.sort is stable: within a rank, filters keep their (deterministic) candidate order.
    .sort((a, b) => rank(a) - rank(b));
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
  };
  if (!filter) return { ...base, xffMode: SidecarXffMode.DEFAULT };
  const hops = filter.trust.mode === SidecarXffMode.TRUSTED_HOPS ? safeHops(filter) : undefined;
  return {
    ...base,
    xffMode: filter.trust.mode,
    ...(hops !== undefined ? { xffTrustedHops: hops } : {}),
    ...(filter.trust.mode === SidecarXffMode.TRUSTED_CIDRS ? { xffTrustedCidrs: filter.trust.cidrs } : {}),
    ...(filter.trust.mode === SidecarXffMode.CUSTOM_HEADER ? {
      clientHeaderName: filter.trust.clientHeaderName,
      ...(filter.trust.clientHeaderRejectStatus !== undefined ? { clientHeaderRejectStatus: filter.trust.clientHeaderRejectStatus } : {}),
    } : {}),
    xffPorts: filter.portNumber !== undefined ? [filter.portNumber] : [],
  };
}

/** The filter's own validation reports an unresolvable gateway; the model just says "no hops". */
function safeHops(filter: XffSidecarFilter): number {
  try {
    return filter.trust.resolveHops() ?? 0;
  } catch {
    return 0;
  }
}

/**
 * The Pod Security Admission `enforce` level that each Namespace object of the app (a `kplus.Namespace` or a
 * plain ApiObject of kind Namespace) gives its namespace. It walks the whole tree, so call it once per check.
 */
export function podSecurityLevels(scope: IConstruct): Map<string, { level: string; path: string }> {
  const levels = new Map<string, { level: string; path: string }>();
  // Pre-order walk of the user's constructs: the library's own constructs never render a Namespace.
  const stack: IConstruct[] = [...scope.node.root.node.children].reverse();
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (c instanceof ApiObject) {
      const level = c.kind === 'Namespace' && c.apiVersion === 'v1' ? c.metadata.getLabel(PSA_ENFORCE_LABEL) : undefined;
      if (level !== undefined && !levels.has(c.name)) levels.set(c.name, { level, path: c.node.path });
    } else if (!isLibraryConstruct(c)) {
      stack.push(...[...c.node.children].reverse());
    }
  }
  return levels;
}

/** True when the PSA level rejects istio-proxy with NET_ADMIN and runAsUser 0. */
export function rejectsTproxy(level: string): boolean {
  return PSA_REJECTING_TPROXY.includes(level);
}
