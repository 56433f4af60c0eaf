import { ApiObject, Chart } from 'cdk8s';
import { XffFilterScope, XffSidecarFilter } from '../../src';

/*
 * Issue 25: no synthesised AuthorizationPolicy, EnvoyFilter or Sidecar has an empty or missing selector unless
 * its scope says namespace or mesh. A policy attached with `targetRefs` (a waypoint's, a Gateway API gateway's) is
 * scoped by them; an EnvoyFilter without `workloadSelector` must be an XffSidecarFilter the user asked for with
 * XffFilterScope.NAMESPACE or MESH. Run on every accepted case of the property suite.
 */

/** Counts of what the check looked at, for the suite's summary. */
export const selectorScopeCounter = { objects: 0, scoped: 0 };

const SELECTED_KINDS = new Set(['AuthorizationPolicy', 'EnvoyFilter', 'Sidecar', 'PeerAuthentication', 'RequestAuthentication', 'Telemetry', 'WasmPlugin']);

/** Throws when one of `manifests` (the chart's synthesised objects) selects every workload without an explicit scope. */
export function assertScopedSelectors(chart: Chart, manifests: any[]): void {
  // The namespace- and mesh-wide filters the user asked for, by namespace/name as synthesised.
  const wide = new Set(chart.node.findAll()
    .filter((c): c is XffSidecarFilter => c instanceof XffSidecarFilter && c.scope !== XffFilterScope.WORKLOAD)
    .map(f => objectKey((f.resource as ApiObject).toJson())));
  for (const m of manifests) {
    if (!SELECTED_KINDS.has(m?.kind)) continue;
    selectorScopeCounter.objects++;
    const spec = m.spec ?? {};
    const refs = [...(spec.targetRefs ?? []), ...(spec.targetRef ? [spec.targetRef] : [])];
    if (refs.length > 0) {
      selectorScopeCounter.scoped++;
      continue;
    }
    const labels = m.kind === 'AuthorizationPolicy' || m.kind === 'PeerAuthentication' || m.kind === 'RequestAuthentication'
      || m.kind === 'Telemetry' || m.kind === 'WasmPlugin'
      ? spec.selector?.matchLabels
      : spec.workloadSelector?.labels;
    if (labels && typeof labels === 'object' && Object.keys(labels).length > 0) continue;
    if (wide.has(objectKey(m))) {
      selectorScopeCounter.scoped++;
      continue;
    }
    throw new Error(`${m.kind} "${objectKey(m)}" has an empty or missing selector (${JSON.stringify(m.kind === 'EnvoyFilter' || m.kind === 'Sidecar' ? spec.workloadSelector : spec.selector)}) although no scope asks for a namespace- or mesh-wide object: it reaches every workload of its namespace`);
  }
}

function objectKey(m: any): string {
  return `${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;
}
