import * as fs from 'fs';
import * as path from 'path';
import { envoyField, IstioProxyReport, normaliseCidr, WAYPOINT_PROXY_TYPE, ZTUNNEL_AUTHZ_FILE } from './compare';
import {
  WaypointExpectation, ZtunnelEnforcement, ZtunnelPolicyExpectation, ZtunnelRoutingExpectation,
} from '../../src/trace/ambient-expectations';

/*
 * Ambient mode against istiod: what the library's trace expects of each waypoint (its HTTP connection managers, the
 * policies attached to it) and of ztunnel (which policies it enforces on which ambient workloads, with which CIDRs)
 * against what the Go conformance run generated (conformance/istio/waypoint.go, ztunnel.go). The expectation comes
 * from the constructs' trace, never from the manifests under test.
 */

/** The waypoint's listener with its HTTP connection managers and RBAC filters (conformance/istio/waypoint.go). */
export const WAYPOINT_INTERNAL_LISTENER = 'main_internal';

/** One rule of a policy as ztunnel gets it. */
export interface IstioZtunnelGroup {
  readonly sourceCidrs: string[];
  readonly notSourceCidrs: string[];
  readonly destinationPorts: number[];
  readonly anySource: boolean;
}

/** One policy as istiod converts it for ztunnel. */
export interface IstioZtunnelPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly scope: string;
  readonly action: string;
  readonly groups: IstioZtunnelGroup[];
  /** istiod's message when ztunnel cannot enforce all of the policy, else "". */
  readonly status: string;
  /** Captured pods (`namespace/name`) ztunnel enforces it on. */
  readonly workloads: string[];
}

/** One Service as ztunnel gets it. */
export interface IstioZtunnelService {
  readonly name: string;
  readonly namespace: string;
  /** `namespace/name` of the waypoint's Service, "" for none. */
  readonly waypoint: string;
  readonly ingressUseWaypoint: boolean;
  /** Captured pods (`namespace/name`) behind it. */
  readonly workloads: string[];
}

/** `<out>/<set>/ztunnel-authz.json`. */
export interface IstioZtunnelReport {
  readonly set: string;
  readonly policies: IstioZtunnelPolicy[];
  readonly workloads: Array<{ readonly name: string; readonly namespace: string; readonly policies: string[]; readonly waypoint?: string }>;
  readonly services?: IstioZtunnelService[];
}

/** The set's ztunnel authorization, or undefined for a set without ambient. */
export function readZtunnelReport(dir: string): IstioZtunnelReport | undefined {
  const file = path.join(dir, ZTUNNEL_AUTHZ_FILE);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

const sorted = (values: Array<string | number>): string => [...values].map(String).sort().join(',');
const cidrs = (values: string[]): string => sorted(values.map(normaliseCidr));

/**
 * Every difference between the policies the trace expects ztunnel to enforce and the ones istiod has it enforce on
 * a captured pod of the set (policies bound to no captured pod are not ztunnel's business in this set).
 */
export function ztunnelDisagreements(expected: ZtunnelPolicyExpectation[], report: IstioZtunnelReport): string[] {
  const out: string[] = [];
  const key = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
  const bound = new Map(report.policies.filter(p => p.workloads.length > 0).map(p => [key(p), p]));
  for (const e of expected) {
    const where = `ztunnel: policy ${key(e)}`;
    const got = bound.get(key(e));
    if (got === undefined) {
      out.push(`${where}: the trace expects ztunnel to enforce it on ${e.workloads}, istiod has ztunnel enforce it on no captured pod`);
      continue;
    }
    if (sorted(got.workloads) !== sorted(e.workloads)) out.push(`${where}: istiod has ztunnel enforce it on ${got.workloads}, the trace expects ${e.workloads}`);
    if (got.scope !== e.scope) out.push(`${where}: scope ${got.scope} in istiod, the trace expects ${e.scope}`);
    if (got.action !== e.action) out.push(`${where}: action ${got.action} in istiod, the trace expects ${e.action}`);
    const partial = e.enforcement !== ZtunnelEnforcement.AS_WRITTEN;
    if ((got.status !== '') !== partial) {
      out.push(`${where}: the trace expects ztunnel to enforce it ${e.enforcement}, istiod says ${JSON.stringify(got.status || 'nothing')}`);
    }
    const rule = (r: { sourceCidrs: string[]; notSourceCidrs: string[]; anySource: boolean }, ports: number[]) =>
      `source [${cidrs(r.sourceCidrs)}] not [${cidrs(r.notSourceCidrs)}] ports [${sorted(ports)}]${r.anySource ? ' any source' : ''}`;
    const gotRules = got.groups.map(g => rule(g, g.destinationPorts)).sort();
    const wantRules = e.rules.map(r => rule(r, r.ports)).sort();
    if (gotRules.join(' | ') !== wantRules.join(' | ')) {
      out.push(`${where}: ztunnel's rules in istiod are {${gotRules.join(' | ')}}, the trace expects {${wantRules.join(' | ')}}`);
    }
  }
  for (const [k, p] of bound) {
    if (!expected.some(e => key(e) === k)) out.push(`ztunnel: policy ${k}: istiod has ztunnel enforce it on ${p.workloads}, which the trace does not expect`);
  }
  return out;
}

/**
 * Every difference between the waypoints the trace expects and the ones istiod configured: each waypoint exists,
 * every HTTP connection manager of its internal listener has the trace's client-address settings, and its RBAC
 * holds exactly the CIDRs of the policies the trace attaches to it, each with its action and field.
 */
export function waypointDisagreements(expected: WaypointExpectation[], reports: IstioProxyReport[]): string[] {
  const out: string[] = [];
  const waypoints = reports.filter(r => r.proxy.type === WAYPOINT_PROXY_TYPE);
  for (const e of expected) {
    const ref = `Gateway ${e.waypoint.namespace}/${e.waypoint.name}`;
    const where = `waypoint ${e.waypoint.namespace}/${e.waypoint.name}`;
    const r = waypoints.find(w => w.gatewayApi?.gateway === ref);
    if (r === undefined) {
      out.push(`${where}: istiod configured no waypoint for ${ref}`);
      continue;
    }
    const internal = r.listeners.find(l => l.name === WAYPOINT_INTERNAL_LISTENER);
    if (internal === undefined) {
      out.push(`${where}: istiod generated no ${WAYPOINT_INTERNAL_LISTENER} listener`);
      continue;
    }
    for (const ch of internal.chains.filter(c => c.hcm !== null)) {
      const h = ch.hcm!;
      const extensions = h.originalIpDetectionExtensions.length;
      if (h.useRemoteAddress !== e.hcm.useRemoteAddress || h.xffNumTrustedHops !== e.hcm.xffNumTrustedHops || extensions > 0) {
        out.push(`${where} chain ${ch.name}: use_remote_address ${h.useRemoteAddress}, xff_num_trusted_hops ${h.xffNumTrustedHops}, `
          + `${extensions} detection extensions in istiod; the trace expects ${e.hcm.useRemoteAddress}, ${e.hcm.xffNumTrustedHops}, none`);
      }
    }
    const want = e.policies.flatMap(p => p.cidrs.map(c => ({
      policy: p.name, action: p.action as string, field: envoyField(p.field), cidr: normaliseCidr(c), negated: p.negated,
    })));
    const rules = internal.chains.flatMap(c => c.rbac.map(x => ({ ...x, cidr: normaliseCidr(x.cidr) })));
    for (const w of want) {
      const same = rules.filter(x => x.cidr === w.cidr && x.negated === w.negated && x.action === w.action);
      if (!same.some(x => x.field === w.field)) out.push(`${where}: policy ${w.policy} ${w.action} ${w.field} ${w.cidr} (negated ${w.negated}) is not in istiod's RBAC`);
      const other = same.find(x => x.field !== w.field);
      if (other !== undefined) out.push(`${where}: policy ${w.policy} ${w.cidr} lands on ${other.field} in istiod, the trace says ${w.field}`);
    }
    for (const x of rules) {
      if (!want.some(w => w.cidr === x.cidr && w.field === x.field && w.action === x.action && w.negated === x.negated)) {
        out.push(`${where}: istiod has ${x.action} ${x.field} ${x.cidr} (negated ${x.negated}), which the trace does not expect`);
      }
    }
  }
  for (const r of waypoints) {
    if (!expected.some(e => r.gatewayApi?.gateway === `Gateway ${e.waypoint.namespace}/${e.waypoint.name}`)) {
      out.push(`waypoint ${r.proxy.namespace}/${r.proxy.name}: istiod configured a waypoint (${r.gatewayApi?.gateway}) the trace does not know`);
    }
  }
  return [...new Set(out)];
}

/**
 * Where ztunnel sends each ambient workload's traffic: through the waypoint the trace walks (the workload's own, or
 * that of every Service in front of it, ingress traffic included when the trace says so), or through none.
 */
export function routingDisagreements(expected: ZtunnelRoutingExpectation[], report: IstioZtunnelReport): string[] {
  const out: string[] = [];
  for (const e of expected) {
    const where = `ztunnel: workload ${e.workload}`;
    const pod = report.workloads.find(w => `${w.namespace}/${w.name}` === e.workload);
    if (pod === undefined) {
      out.push(`${where}: the trace has an ambient workload, istiod captured no pod of that name`);
      continue;
    }
    const services = (report.services ?? []).filter(s => s.workloads.includes(e.workload));
    const own = pod.waypoint ?? '';
    const viaServices = services.length > 0 && services.every(s => s.waypoint === e.waypoint);
    if (e.waypoint !== undefined && own !== e.waypoint && !viaServices) {
      out.push(`${where}: the trace sends its traffic through waypoint ${e.waypoint}, istiod through ${JSON.stringify(own)} (pod) and ${JSON.stringify(services.map(s => `${s.namespace}/${s.name} -> ${s.waypoint || 'none'}`))}`);
    }
    if (e.waypoint === undefined && (own !== '' || services.some(s => s.waypoint !== ''))) {
      out.push(`${where}: the trace sends its traffic through no waypoint, istiod through ${JSON.stringify(own)} (pod) and ${JSON.stringify(services.map(s => `${s.namespace}/${s.name} -> ${s.waypoint || 'none'}`))}`);
    }
    const ingress = services.filter(s => s.waypoint !== '' && s.ingressUseWaypoint !== e.ingressUseWaypoint);
    if (e.waypoint !== undefined && ingress.length > 0) {
      out.push(`${where}: ingress traffic ${e.ingressUseWaypoint ? 'passes' : 'skips'} the waypoint in the trace, istiod says ingress-use-waypoint ${!e.ingressUseWaypoint} for ${ingress.map(s => `${s.namespace}/${s.name}`)}`);
    }
  }
  return out;
}
