import { PodTemplateOwner, labelsOf, namespaceOf } from './objects';
import { USE_WAYPOINT_LABEL, WAYPOINT_FOR_LABEL, WAYPOINT_GATEWAY_CLASS, waypointForOf } from '../../model/ambient';
import { finding } from '../../model/finding-text';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL } from '../../model/gateway-api';
import { WaypointModel, WorkloadModel } from '../../model/model';
import { Finding, FindingSeverity } from '../explain-report';

/* Ambient waypoints: their Gateways, their pods, and workloads that name a missing one. */

/** A Gateway API Gateway of Istio's waypoint class. */
export function isWaypointGateway(o: any): boolean {
  return String(o.apiVersion).startsWith(`${GATEWAY_API_GROUP}/`) && o.spec?.gatewayClassName === WAYPOINT_GATEWAY_CLASS;
}

/** Pods istiod deployed for a waypoint: labelled with the name of a waypoint Gateway of their namespace. */
export function isWaypointPod(p: PodTemplateOwner, waypoints: WaypointModel[]): boolean {
  const gateway = p.labels[GATEWAY_NAME_LABEL];
  return gateway !== undefined && waypoints.some(w => w.namespace === p.namespace && w.name === gateway);
}

export function waypointOf(o: any): WaypointModel {
  return { name: o.metadata?.name ?? 'unnamed', namespace: namespaceOf(o), waypointFor: waypointForOf(labelsOf(o)[WAYPOINT_FOR_LABEL]) };
}

/** A workload that names a waypoint the input does not hold. */
export function waypointFindings(workloads: WorkloadModel[], waypoints: WaypointModel[], findings: Finding[]): void {
  const known = new Set(waypoints.map(w => `${w.namespace}/${w.name}`));
  for (const w of workloads) {
    if (w.waypoint === undefined) continue;
    if (!known.has(w.waypoint)) {
      findings.push(finding(FindingSeverity.WARNING, `workload ${w.namespace}/${w.name}`, `${USE_WAYPOINT_LABEL} names waypoint ${w.waypoint}, which is not in the input: explain assumes it exists and handles the workload's traffic`,
        `give explain the waypoint's Gateway (gatewayClassName ${WAYPOINT_GATEWAY_CLASS}) too, or fix the label`));
    }
  }
}
