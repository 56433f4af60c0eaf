import { Finding, FindingSeverity } from './findings';
import { GATEWAY_API_GROUP } from './gateway-api';
import { IstioVersion } from './istio-version';
import { PolicyModel, PolicyTargetRef, WaypointFor, WaypointModel, WorkloadModel } from './model';

/*
 * Facts of Istio's ambient mode that the constructs render and `explain` reads back: the labels that enrol
 * namespaces and pods, the waypoint Gateway's shape, and which waypoint a policy's `targetRefs` reach.
 */

/** Namespace or pod label that puts pods in ambient mode (value `ambient`). */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
/** The value of `DATAPLANE_MODE_LABEL` for ambient. */
export const AMBIENT_MODE = 'ambient';
/** Namespace, Service or pod label naming the waypoint the traffic goes through. */
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
/** Companion of `USE_WAYPOINT_LABEL` when the waypoint lives in another namespace. */
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';
/** `istio.io/use-waypoint` value that opts a Service or pod out of its namespace's waypoint. */
export const NO_WAYPOINT = 'none';
/** Namespace or Service label: ingress gateways send traffic through the waypoint too (only when "true"). */
export const INGRESS_USE_WAYPOINT_LABEL = 'istio.io/ingress-use-waypoint';
/** Waypoint Gateway label: which traffic it handles. */
export const WAYPOINT_FOR_LABEL = 'istio.io/waypoint-for';
/** The GatewayClass of Istio's waypoints. */
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';
/** The waypoint's HBONE listener port and protocol. */
export const WAYPOINT_HBONE_PORT = 15008;
export const WAYPOINT_HBONE_PROTOCOL = 'HBONE';

/** The waypoint (`namespace/name`) that labels name, or undefined (no label, or the `none` opt-out). */
export function waypointNamedBy(labels: { [key: string]: string } | undefined, namespace: string): string | undefined | null {
  const name = labels?.[USE_WAYPOINT_LABEL];
  if (name === undefined) return undefined;
  if (name === NO_WAYPOINT) return null;
  return `${labels?.[USE_WAYPOINT_NAMESPACE_LABEL] ?? namespace}/${name}`;
}

/**
 * The waypoint of a workload, most specific label first: its pods, then its Service, then its namespace. `null`
 * from a level (the `none` value) opts out of the levels below it.
 */
export function resolveWaypoint(namespace: string, ...levels: Array<{ [key: string]: string } | undefined>): string | undefined {
  for (const labels of levels) {
    const named = waypointNamedBy(labels, namespace);
    if (named === null) return undefined;
    if (named !== undefined) return named;
  }
  return undefined;
}

/** True when a Service or namespace label sends ingress traffic through the waypoint (istiod compares case-insensitively on namespaces). */
export function ingressUsesWaypoint(...levels: Array<{ [key: string]: string } | undefined>): boolean {
  return levels.some(labels => String(labels?.[INGRESS_USE_WAYPOINT_LABEL] ?? '').toLowerCase() === 'true');
}

/** `istio.io/waypoint-for`, Istio's default when absent or unknown. */
export function waypointForOf(value: string | undefined): WaypointFor {
  return Object.values(WaypointFor).find(v => v === value) ?? WaypointFor.SERVICE;
}

/** The `targetRefs` entry that attaches a policy to a waypoint. */
export function waypointTargetRef(waypoint: WaypointModel): PolicyTargetRef {
  return { group: GATEWAY_API_GROUP, kind: 'Gateway', name: waypoint.name };
}

/** The waypoints a policy's targetRefs attach it to: kind Gateway by name, kind Service through the Service's workloads. */
export function waypointsOfPolicy(policy: PolicyModel, waypoints: readonly WaypointModel[],
  workloadsOfService: (name: string) => WorkloadModel[], namespaceWaypoint?: string): WaypointModel[] {
  const refs = policy.targetRefs ?? [];
  if (refs.length === 0) return [];
  const keys = new Set<string>();
  for (const ref of refs) {
    if (ref.kind === 'Gateway' && ref.group === GATEWAY_API_GROUP) keys.add(`${policy.namespace}/${ref.name}`);
    if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core')) {
      const behind = workloadsOfService(ref.name);
      for (const w of behind) if (w.waypoint !== undefined) keys.add(w.waypoint);
      // A Service with no workload the model knows: istiod binds it to the waypoint its namespace names
      // (`istio.io/use-waypoint` on the Namespace; the ambient index's service waypoint lookup), whatever runs behind it.
      if (behind.length === 0 && namespaceWaypoint !== undefined) keys.add(namespaceWaypoint);
    }
  }
  return waypoints.filter(w => keys.has(`${w.namespace}/${w.name}`));
}

/** The ambient workloads whose traffic goes through `waypoint`. */
export function workloadsUsing(waypoint: WaypointModel, workloads: readonly WorkloadModel[]): WorkloadModel[] {
  return workloads.filter(w => w.waypoint === `${waypoint.namespace}/${waypoint.name}`);
}

/**
 * Findings for Namespaces labelled `istio.io/ingress-use-waypoint` on a release that reads the label on Services
 * only (`IstioVersion.readsNamespaceIngressUseWaypoint`): ingress traffic then skips the waypoint and its policies.
 *
 * @param namespaces the Namespaces, by name and labels
 * @param istioVersion the release the cluster runs
 */
export function namespaceIngressUseWaypointFindings(
  namespaces: ReadonlyArray<{ readonly name: string; readonly labels?: { readonly [key: string]: string } }>, istioVersion: IstioVersion): Finding[] {
  if (istioVersion.readsNamespaceIngressUseWaypoint) return [];
  return namespaces.filter(n => n.labels?.[INGRESS_USE_WAYPOINT_LABEL] !== undefined).map(n => ({
    severity: FindingSeverity.WARNING,
    where: `Namespace ${n.name}`,
    message: `Istio ${istioVersion.label} reads ${INGRESS_USE_WAYPOINT_LABEL} on Services only (on a Namespace from 1.25): ingress traffic to this namespace skips the waypoint and its policies`,
    fix: `label the Services ${INGRESS_USE_WAYPOINT_LABEL}: "true", or upgrade to Istio 1.25 or newer`,
  }));
}
