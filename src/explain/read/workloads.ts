import { lastHeader } from './client-headers';
import { ListenerPp, clientHeaderPatches, hcmPatches, proxyProtocolListenerPatches, xffPrecedence } from './envoy-filters';
import { Indexes } from './indexes';
import { PodTemplateOwner, labelsOf, namespaceOf, proxyConfigOf } from './objects';
import { INTERCEPTION_MODE_ANNOTATION, SIDECAR_INBOUND_PORT, SIDECAR_INJECT_LABEL } from '../../envoy/names';
import { AMBIENT_MODE, DATAPLANE_MODE_LABEL, INGRESS_USE_WAYPOINT_LABEL, USE_WAYPOINT_LABEL, resolveWaypoint } from '../../model/ambient';
import { finding } from '../../model/finding-text';
import { InterceptionMode, ProxyRole, WorkloadModel } from '../../model/model';
import { Finding, FindingSeverity } from '../explain-report';
import { shortValue } from '../read-values';

/* Meshed (sidecar or ambient) workloads into the model. */

export function injectionDisabled(p: PodTemplateOwner): boolean {
  return p.labels[SIDECAR_INJECT_LABEL] === 'false' || p.annotations[SIDECAR_INJECT_LABEL] === 'false';
}

export function parseWorkload(p: PodTemplateOwner, indexes: Indexes, namespaceLabels: Map<string, { [key: string]: string }>,
  findings: Finding[]): WorkloadModel {
  const where = `workload ${p.namespace}/${p.name}`;
  const nsLabels = namespaceLabels.get(p.namespace);
  const podMode = p.labels[DATAPLANE_MODE_LABEL];
  const ambient = podMode === AMBIENT_MODE || (podMode === undefined && nsLabels?.[DATAPLANE_MODE_LABEL] === AMBIENT_MODE);
  const filters = indexes.envoyFilters.matching([p.namespace, ...indexes.rootNamespaces], p.labels);
  const hcm = hcmPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined]);
  const applied = xffPrecedence(hcm);
  const header = applied.header;
  const relevant = hcm.filter(v => v.useRemoteAddress === true || (v.hops ?? 0) > 0 || v.extensions > 0);
  if (ambient && p.annotations[INTERCEPTION_MODE_ANNOTATION] !== undefined) {
    findings.push(finding(FindingSeverity.WARNING, where, `sidecar.istio.io/interceptionMode ${shortValue(p.annotations[INTERCEPTION_MODE_ANNOTATION])} does nothing: the pods are in ambient mode, without a sidecar; ztunnel intercepts them and keeps the caller's address`,
      'remove the annotation, or take the pods out of ambient mode (istio.io/dataplane-mode: none) if they need a sidecar'));
  }
  return {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    role: ambient ? ProxyRole.AMBIENT : ProxyRole.SIDECAR,
    interceptionMode: interceptionModeOf(p, where, findings),
    xffMode: applied.mode,
    xffTrustedHops: applied.hops,
    xffTrustedCidrs: applied.cidrs.length > 0 ? applied.cidrs : undefined,
    ...(header !== undefined ? {
      clientHeaderName: header.headerName.toLowerCase(),
      ...(header.rejectStatus !== undefined ? { clientHeaderRejectStatus: header.rejectStatus } : {}),
      ...(filters.some(f => f.onlyReachableThroughCdn) ? { onlyReachableThroughCdn: true } : {}),
    } : {}),
    xffPorts: relevant.flatMap(v => v.port === undefined ? [] : [v.port]),
    ...sidecarProxyProtocol(proxyProtocolListenerPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined])),
    ...(ambient ? ambientWaypoint(p, indexes, nsLabels) : {}),
    ...lastHeader(ambient ? [] : clientHeaderPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined])),
  };
}

/**
 * The waypoint of an ambient workload: its pods' `istio.io/use-waypoint`, then its Service's, then its namespace's.
 * istiod sends ingress traffic through it only with `istio.io/ingress-use-waypoint` "true" on the Service (exact) or
 * the namespace (any case).
 */
function ambientWaypoint(p: PodTemplateOwner, indexes: Indexes,
  nsLabels: { [key: string]: string } | undefined): { waypoint?: string; ingressUseWaypoint?: boolean } {
  const services = indexes.services.matching(['*'], p.labels).filter(s => namespaceOf(s) === p.namespace);
  const service = services.find(s => labelsOf(s)[USE_WAYPOINT_LABEL] !== undefined) ?? services[0];
  const serviceLabels = service ? labelsOf(service) : undefined;
  const waypoint = resolveWaypoint(p.namespace, p.labels, serviceLabels, nsLabels);
  if (waypoint === undefined) return {};
  const ingress = serviceLabels?.[INGRESS_USE_WAYPOINT_LABEL] === 'true' || String(nsLabels?.[INGRESS_USE_WAYPOINT_LABEL] ?? '').toLowerCase() === 'true';
  return { waypoint, ...(ingress ? { ingressUseWaypoint: true } : {}) };
}

/** A sidecar's PROXY listener filter on its inbound listener (15006) covers every pod port. */
function sidecarProxyProtocol(patches: ListenerPp[]): { proxyProtocolPorts: number[]; proxyProtocolOnEveryPort?: boolean } {
  const everyPort = patches.some(l => l.port === undefined || l.port === SIDECAR_INBOUND_PORT);
  return {
    proxyProtocolPorts: patches.flatMap(l => l.port === undefined || l.port === SIDECAR_INBOUND_PORT ? [] : [l.port]),
    ...(everyPort ? { proxyProtocolOnEveryPort: true } : {}),
  };
}

function interceptionModeOf(p: PodTemplateOwner, where: string, findings: Finding[]): InterceptionMode {
  // The injector reads the annotation, else ProxyConfig: the pod's proxy.istio.io/config over the mesh default.
  const value = p.annotations[INTERCEPTION_MODE_ANNOTATION] ?? proxyConfigOf(p)?.interceptionMode ?? p.mesh?.interceptionMode ?? 'REDIRECT';
  const mode = Object.values(InterceptionMode).find(m => m === value);
  if (mode === undefined) {
    findings.push(finding(FindingSeverity.ERROR, where, `sidecar.istio.io/interceptionMode ${shortValue(value)} is not allowed: the injector accepts exactly REDIRECT, TPROXY or NONE (case-sensitive)`,
      'set "TPROXY" to show the app the real peer address'));
    return InterceptionMode.REDIRECT;
  }
  return mode;
}
