import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { XffFilterScope, XffSidecarFilter } from './xff-sidecar-filter';
import { InterceptionMode, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';

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

/**
 * The XffSidecarFilters of the app that reach these pods, most specific first: a workload selector beats a
 * namespace-wide filter, which beats a mesh-wide one.
 */
export function xffFiltersFor(scope: IConstruct, namespace: string, podLabels: { [key: string]: string }): XffSidecarFilter[] {
  const rank = (f: XffSidecarFilter) => [XffFilterScope.WORKLOAD, XffFilterScope.NAMESPACE, XffFilterScope.MESH].indexOf(f.scope);
  return scope.node.root.node.findAll()
    .filter((c): c is XffSidecarFilter => c instanceof XffSidecarFilter)
    .filter(f => f.appliesTo(namespace, podLabels))
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
 * The Pod Security Admission `enforce` level a Namespace object of this app gives `namespace`, whether it is a
 * `kplus.Namespace` or a plain ApiObject of kind Namespace.
 */
export function podSecurityLevelOf(scope: IConstruct, namespace: string): { level: string; path: string } | undefined {
  for (const c of scope.node.root.node.findAll()) {
    if (!(c instanceof ApiObject) || c.kind !== 'Namespace' || c.apiVersion !== 'v1') continue;
    if (c.name !== namespace) continue;
    const level = c.metadata.getLabel(PSA_ENFORCE_LABEL);
    if (level !== undefined) return { level, path: c.node.path };
  }
  return undefined;
}

/** True when the PSA level rejects istio-proxy with NET_ADMIN and runAsUser 0. */
export function rejectsTproxy(level: string): boolean {
  return PSA_REJECTING_TPROXY.includes(level);
}
