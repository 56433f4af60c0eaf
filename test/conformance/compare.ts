import * as fs from 'fs';
import * as path from 'path';
import type { DeclaredPolicy, ExpectedGatewayApiGateway } from './fixtures';
import { PredictedPolicy, PredictedProxy, Prediction } from './model-prediction';

/*
 * Compares what the library's model predicts for each proxy with what istiod generated for it (the JSON the Go
 * conformance run writes, see conformance/istio/report.go). Every difference is a disagreement, in words.
 */

/** The PROXY protocol listener filter of a listener. */
export interface IstioProxyProtocol {
  readonly allowRequestsWithoutProxyProtocol: boolean;
}

/** One original IP detection extension of an HCM. */
export interface IstioXff {
  readonly name: string;
  readonly xffNumTrustedHops: number;
  readonly trustedCidrs: string[];
  readonly skipXffAppend: boolean;
}

/** An HCM's client-address settings. */
export interface IstioHcm {
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly skipXffAppend: boolean;
  readonly originalIpDetectionExtensions: IstioXff[];
}

/** One CIDR principal of an RBAC filter. */
export interface IstioRbacRule {
  readonly filter: string;
  readonly action: string;
  readonly policy: string;
  /** remote_ip or direct_remote_ip. */
  readonly field: string;
  readonly cidr: string;
  readonly negated: boolean;
}

/** A filter chain. */
export interface IstioChain {
  readonly name: string;
  readonly destinationPort: number;
  readonly hcm: IstioHcm | null;
  readonly rbac: IstioRbacRule[];
}

/** A listener. */
export interface IstioListener {
  readonly name: string;
  readonly port: number;
  readonly proxyProtocol: IstioProxyProtocol | null;
  readonly originalSrc: boolean;
  readonly transparent: boolean;
  readonly chains: IstioChain[];
}

/** What istiod generated for one proxy. */
export interface IstioProxyReport {
  readonly set: string;
  readonly proxy: {
    readonly name: string;
    readonly namespace: string;
    readonly type: string;
    readonly source: string;
    readonly labels: { [key: string]: string };
    readonly interceptionMode: string;
  };
  readonly listeners: IstioListener[];
  readonly clusters: Array<{ readonly name: string; readonly upstreamProxyProtocol: string }>;
  /** A gateway's health check listener in pilot-agent's bootstrap; null for sidecars. */
  readonly statusPort: { readonly port: number; readonly proxyProtocol: IstioProxyProtocol | null } | null;
  /** The automated deployment istiod rendered for a Gateway API gateway; null (or absent) for every other proxy. */
  readonly gatewayApi?: IstioGatewayApi | null;
}

/** What istiod's gateway deployment controller rendered for a Gateway API Gateway. */
export interface IstioGatewayApi {
  /** `Gateway namespace/name`. */
  readonly gateway: string;
  readonly service: {
    readonly name: string;
    readonly type: string;
    readonly externalTrafficPolicy: string;
    readonly ipFamilyPolicy: string;
    readonly annotations: { [key: string]: string };
    readonly ports: Array<{ readonly name: string; readonly port: number; readonly appProtocol: string }>;
  };
  readonly renderedKinds: string[];
  /** gatewayTopology and proxyMetadata of the pod's resolved ProxyConfig. */
  readonly proxyConfig: { readonly gatewayTopology?: any; readonly proxyMetadata?: { [key: string]: string } };
}

const ROOT_NAMESPACE = 'istio-system';
const VIRTUAL_INBOUND = 'virtualInbound';
const XFF_EXTENSION = 'envoy.http.original_ip_detection.xff';
const CUSTOM_HEADER_EXTENSION = 'envoy.http.original_ip_detection.custom_header';

/** Reads the per-proxy JSON files of one set (every file but result.json). */
export function readReports(dir: string): IstioProxyReport[] {
  return fs.readdirSync(dir).filter(f => f.endsWith('.json') && f !== 'result.json' && f !== ZTUNNEL_AUTHZ_FILE).sort()
    .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/** What the constructs of a set declared about themselves (fixtures.ts writes it to declared.json). */
export interface Declared {
  readonly policies: DeclaredPolicy[];
  readonly proxies: PredictedProxy[];
  /** What istiod must make of the set's Gateway API gateways. */
  readonly gatewayApi?: ExpectedGatewayApiGateway[];
}

/** ztunnel's authorization in an ambient set, beside the proxies' JSON (compared by ambient-compare.ts). */
export const ZTUNNEL_AUTHZ_FILE = 'ztunnel-authz.json';
/** The proxy type of a waypoint: compared with the trace's waypoint expectation (ambient-compare.ts), not here. */
export const WAYPOINT_PROXY_TYPE = 'Waypoint';

function notComparedReports(prediction: Prediction, reports: IstioProxyReport[]): IstioProxyReport[] {
  return reports.filter(r => isGatewayApi(r) && r.proxy.type !== WAYPOINT_PROXY_TYPE && modelProxyOf(r, prediction.proxies) === undefined);
}

/** The label istiod's automated deployment puts on a Gateway API gateway's pods. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

function isGatewayApi(r: IstioProxyReport): boolean {
  return r.gatewayApi !== undefined && r.gatewayApi !== null;
}

/**
 * The model's proxy for a Gateway API gateway pod: the one of that name, or the gateway of the same namespace
 * whose selector is the pod's gateway-name label.
 */
function modelProxyOf(r: IstioProxyReport, proxies: PredictedProxy[]): PredictedProxy | undefined {
  const gatewayName = r.proxy.labels[GATEWAY_NAME_LABEL];
  return proxies.find(p => p.namespace === r.proxy.namespace && p.name === r.proxy.name)
    ?? proxies.find(p => p.role === 'gateway' && p.namespace === r.proxy.namespace && gatewayName !== undefined && p.labels[GATEWAY_NAME_LABEL] === gatewayName);
}

/**
 * The proxies istiod configured that the comparison does not compare with the model, with the reason: Gateway API
 * gateways, until `explain` reads Gateway API objects (it lists them as skipped). Each one is named, never dropped.
 * Once `predict()` returns a gateway for such a pod (same name, or a selector with its gateway-name label), the pod
 * is compared like any gateway and leaves this list.
 */
export function notCompared(prediction: Prediction, reports: IstioProxyReport[]): string[] {
  return notComparedReports(prediction, reports)
    .map(r => `${r.proxy.namespace}/${r.proxy.name}: Gateway API gateway (${r.gatewayApi!.gateway}) not compared with the model: explain does not read Gateway API gateways yet`);
}

/**
 * Every disagreement between istiod's output and the model: the model read back from the manifests (`prediction`)
 * and, for the proxies whose pods the set deploys, what the constructs declared.
 */
export function disagreements(prediction: Prediction, reports: IstioProxyReport[], declared: Declared = { policies: [], proxies: [] }): string[] {
  const out: string[] = [];
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const predicted = new Map(prediction.proxies.map(p => [key(p.namespace, p.name), p]));
  const skipped = notComparedReports(prediction, reports);
  const compared = reports.filter(r => !skipped.includes(r) && r.proxy.type !== WAYPOINT_PROXY_TYPE);
  const generated = new Map(compared.map(r => [key(r.proxy.namespace, proxyNameInModel(r, prediction.proxies)), r]));
  for (const k of predicted.keys()) if (!generated.has(k)) out.push(`${k}: the model has a ${predicted.get(k)!.role}, istiod configured no proxy of that name`);
  for (const k of generated.keys()) if (!predicted.has(k)) out.push(`${k}: istiod configured a ${generated.get(k)!.proxy.type} the model does not know (${generated.get(k)!.proxy.source})`);
  for (const [k, p] of predicted) {
    const r = generated.get(k);
    if (r === undefined) continue;
    const where = (what: string) => `${k} ${what}`;
    if (p.role === 'gateway') out.push(...gatewayDisagreements(p, r, where));
    else out.push(...sidecarDisagreements(p, r, where));
    out.push(...policyDisagreements(prediction.policies.filter(pol => selects(pol, p)), r, where));
  }
  for (const p of declared.proxies) {
    const r = generated.get(key(p.namespace, p.name));
    // Not in the set (a workload known by labels), or an installed gateway: the manifests cannot say.
    if (r === undefined || r.proxy.source.startsWith('installed gateway')) continue;
    const where = (what: string) => `${key(p.namespace, p.name)} (as the construct declared it)${what.startsWith(':') ? '' : ' '}${what}`;
    out.push(...(p.role === 'gateway' ? gatewayDisagreements(p, r, where) : sidecarDisagreements(p, r, where)));
  }
  out.push(...declaredDisagreements(declared.policies, prediction.policies));
  out.push(...gatewayApiDisagreements(declared.gatewayApi ?? [], reports));
  return [...new Set(out)]; // one line per disagreement, not per filter chain
}

/** The name the model gives a proxy istiod configured: installed gateways and Gateway API pods by their labels. */
function proxyNameInModel(r: IstioProxyReport, proxies: PredictedProxy[]): string {
  if (isGatewayApi(r)) return modelProxyOf(r, proxies)?.name ?? r.proxy.name;
  return installedGatewayName(r, proxies);
}

/**
 * What each Gateway API gateway of the set must get from istiod (the scenario's expectation) against the automated
 * deployment istiod rendered and the listeners it generated for that deployment's pod.
 */
export function gatewayApiDisagreements(expected: ExpectedGatewayApiGateway[], reports: IstioProxyReport[]): string[] {
  const out: string[] = [];
  for (const e of expected) {
    const ref = `Gateway ${e.namespace}/${e.gateway}`;
    const r = reports.find(x => x.gatewayApi?.gateway === ref);
    if (r === undefined) {
      out.push(`${ref}: istiod rendered no automated deployment for it`);
      continue;
    }
    const where = (what: string) => `${ref} (${r.proxy.namespace}/${r.proxy.name}) ${what}`;
    const svc = r.gatewayApi!.service;
    if (svc.type !== e.serviceType) out.push(where(`Service ${svc.name}: type ${svc.type}, expected ${e.serviceType}`));
    if (svc.externalTrafficPolicy !== e.externalTrafficPolicy) {
      out.push(where(`Service ${svc.name}: externalTrafficPolicy ${svc.externalTrafficPolicy}, expected ${e.externalTrafficPolicy} (the parametersRef ConfigMap's service patch)`));
    }
    if (svc.ipFamilyPolicy !== e.ipFamilyPolicy) out.push(where(`Service ${svc.name}: ipFamilyPolicy ${svc.ipFamilyPolicy}, expected ${e.ipFamilyPolicy}`));
    const ports = r.listeners.map(l => l.port).sort((a, b) => a - b);
    if (ports.join() !== [...e.listenerPorts].sort((a, b) => a - b).join()) out.push(where(`listener ports [${ports}], expected [${e.listenerPorts}]`));
    for (const l of r.listeners) {
      const pp = l.proxyProtocol === null ? 'none' : l.proxyProtocol.allowRequestsWithoutProxyProtocol ? 'optional' : 'strict';
      if (pp !== e.proxyProtocol) out.push(where(`listener ${l.name}: PROXY protocol ${pp}, expected ${e.proxyProtocol}`));
      for (const c of l.chains.filter(ch => ch.hcm !== null)) {
        if (!c.hcm!.useRemoteAddress) out.push(where(`listener ${l.name}: use_remote_address is false`));
        if (c.hcm!.xffNumTrustedHops !== e.trustedHops) out.push(where(`listener ${l.name}: xff_num_trusted_hops ${c.hcm!.xffNumTrustedHops}, expected ${e.trustedHops}`));
      }
      const rules = [...new Set(l.chains.flatMap(c => c.rbac).map(x => `${x.action} ${x.field} ${normaliseCidr(x.cidr)}${x.negated ? ' (negated)' : ''}`))].sort();
      const want = e.rbac.map(x => x.replace(/\S+$/, cidr => normaliseCidr(cidr))).sort();
      if (rules.join() !== want.join()) out.push(where(`listener ${l.name}: RBAC [${rules.join(', ')}], expected [${want.join(', ')}]`));
    }
    const status = r.statusPort?.proxyProtocol ?? null;
    const statusPp = status === null ? 'none' : status.allowRequestsWithoutProxyProtocol ? 'optional' : 'strict';
    if (statusPp !== e.statusPortProxyProtocol) out.push(where(`status port: PROXY protocol ${statusPp}, expected ${e.statusPortProxyProtocol}`));
  }
  return out;
}

/**
 * The name the model gives an installed gateway (one the set only selects, from an Istio Gateway): the model may
 * know its Service's name (attach mode names it), istiod only the selector; they are the same proxy when the
 * namespace and the labels agree.
 */
function installedGatewayName(r: IstioProxyReport, proxies: PredictedProxy[]): string {
  if (!isInstalledGateway(r)) return r.proxy.name;
  const same = proxies.find(p => p.role === 'gateway' && p.namespace === r.proxy.namespace && sameLabels(p.labels, r.proxy.labels));
  return same?.name ?? r.proxy.name;
}

function isInstalledGateway(r: IstioProxyReport): boolean {
  return r.proxy.source.startsWith('installed gateway');
}

function sameLabels(a: { [key: string]: string }, b: { [key: string]: string }): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every(k => a[k] === b[k]);
}

function gatewayDisagreements(p: PredictedProxy, r: IstioProxyReport, where: (w: string) => string): string[] {
  const out: string[] = [];
  if (r.proxy.type !== 'Router') out.push(where(`: the model has a gateway, istiod configured a ${r.proxy.type}`));
  out.push(...statusPortDisagreements(p, r, where));
  // An installed gateway's pods are not in the set: istiod runs them with the mesh defaults here, whatever
  // gatewayTopology the installation really has, so only what the set itself configures is compared.
  if (isInstalledGateway(r)) {
    for (const c of r.listeners.flatMap(l => l.chains).filter(ch => ch.hcm !== null && !ch.hcm.useRemoteAddress)) {
      out.push(where(`chain ${c.name}: use_remote_address is false, the model has a gateway that uses it`));
    }
    return out;
  }
  for (const l of r.listeners) {
    for (const c of l.chains.filter(ch => ch.hcm !== null)) {
      if (!c.hcm!.useRemoteAddress) out.push(where(`listener ${l.name}: use_remote_address is false, the model has a gateway that uses it`));
      if (c.hcm!.xffNumTrustedHops !== p.trustedHops) {
        out.push(where(`listener ${l.name}: xff_num_trusted_hops ${c.hcm!.xffNumTrustedHops}, the model trusts ${p.trustedHops}`));
      }
    }
    const want = expectedProxyProtocol(p.proxyProtocol!.mode, p.proxyProtocol!.ports, l.port);
    const got = l.proxyProtocol === null ? 'none' : l.proxyProtocol.allowRequestsWithoutProxyProtocol ? 'optional' : 'strict';
    if (want !== got) out.push(where(`listener ${l.name}: PROXY protocol ${got}, the model says ${want} (mode ${p.proxyProtocol!.mode}, ports [${p.proxyProtocol!.ports}])`));
  }
  return out;
}

/**
 * Health checks keep working behind a load balancer that sends PROXY: a gateway pod of the set that accepts PROXY
 * has a status port that accepts it and plain requests alike; one that does not has no PROXY filter there.
 * Installed gateways (not in the set) are skipped: the set does not configure their pods.
 */
function statusPortDisagreements(p: PredictedProxy, r: IstioProxyReport, where: (w: string) => string): string[] {
  if (r.statusPort === null || r.proxy.source.startsWith('installed gateway')) return [];
  const want = p.proxyProtocol!.mode === 'off' ? 'none' : 'optional';
  const pp = r.statusPort.proxyProtocol;
  const got = pp === null ? 'none' : pp.allowRequestsWithoutProxyProtocol ? 'optional' : 'strict';
  return want === got ? [] : [where(`status port ${r.statusPort.port}: PROXY protocol ${got} in pilot-agent's bootstrap, health checks need ${want} (mode ${p.proxyProtocol!.mode})`)];
}

/** none, strict or optional: what a gateway listener on `port` accepts in the model's PROXY mode. */
export function expectedProxyProtocol(mode: string, ports: number[], port: number): string {
  const covered = ports.length === 0 || ports.includes(port);
  switch (mode) {
    case 'strict': return 'strict';
    case 'optional': return covered ? 'optional' : 'none';
    case 'strict-per-port': return ports.includes(port) ? 'strict' : 'none';
    default: return 'none';
  }
}

function sidecarDisagreements(p: PredictedProxy, r: IstioProxyReport, where: (w: string) => string): string[] {
  const out: string[] = [];
  if (r.proxy.type !== 'Sidecar') out.push(where(`: the model has a sidecar, istiod configured a ${r.proxy.type}`));
  if (r.proxy.interceptionMode !== p.interceptionMode) out.push(where(`: interception ${r.proxy.interceptionMode}, the model says ${p.interceptionMode}`));
  const inbound = r.listeners.find(l => l.name === VIRTUAL_INBOUND);
  if (inbound === undefined) return [...out, where(`: istiod generated no ${VIRTUAL_INBOUND} listener`)];
  const tproxy = p.interceptionMode === 'TPROXY';
  if (inbound.originalSrc !== tproxy) out.push(where(`${VIRTUAL_INBOUND}: original_src ${inbound.originalSrc}, the model's interception is ${p.interceptionMode}`));
  if ((inbound.proxyProtocol !== null) !== p.inboundProxyProtocol) {
    out.push(where(`${VIRTUAL_INBOUND}: PROXY protocol ${inbound.proxyProtocol !== null}, the model says ${p.inboundProxyProtocol}`));
  }
  const xff = p.xff!;
  const hcmChains = inbound.chains.filter(c => c.hcm !== null);
  if (xff.mode !== 'default' && !hcmChains.some(c => covers(xff, c.destinationPort))) {
    out.push(where(`${VIRTUAL_INBOUND}: no HTTP chain on the ports the model's XFF setting covers ([${xff.ports}])`));
  }
  for (const c of hcmChains) {
    const mode = covers(xff, c.destinationPort) ? xff.mode : 'default';
    const got = xffModeOf(c.hcm!);
    const want = mode === 'trusted-hops' ? `trusted-hops ${xff.hops}` : mode === 'trusted-cidrs' ? `trusted-cidrs ${[...xff.cidrs].sort()}` : mode;
    if (got !== want) out.push(where(`${VIRTUAL_INBOUND} chain ${c.name} (port ${c.destinationPort}): XFF ${got}, the model says ${want}`));
  }
  return out;
}

/** Passthrough chains (port 0) are covered only by a filter that covers every port. */
function covers(xff: { readonly ports: number[] }, port: number): boolean {
  return xff.ports.length === 0 || xff.ports.includes(port);
}

/** The HCM's XFF handling in the model's words. */
export function xffModeOf(hcm: IstioHcm): string {
  if (hcm.originalIpDetectionExtensions.some(e => e.name === CUSTOM_HEADER_EXTENSION)) return 'custom-header';
  const ext = hcm.originalIpDetectionExtensions.find(e => e.name === XFF_EXTENSION);
  if (ext !== undefined && ext.trustedCidrs.length > 0) return `trusted-cidrs ${[...ext.trustedCidrs].sort()}`;
  if (hcm.useRemoteAddress) return 'use-remote-address';
  const hops = ext?.xffNumTrustedHops ?? hcm.xffNumTrustedHops;
  return hops > 0 ? `trusted-hops ${hops}` : 'default';
}

function selects(policy: PredictedPolicy, proxy: PredictedProxy): boolean {
  return (policy.namespace === proxy.namespace || policy.namespace === ROOT_NAMESPACE)
    && Object.entries(policy.selector).every(([k, v]) => proxy.labels[k] === v);
}

export function envoyField(field: string): string {
  return field === 'remoteIpBlocks' ? 'remote_ip' : 'direct_remote_ip';
}

function policyDisagreements(policies: PredictedPolicy[], r: IstioProxyReport, where: (w: string) => string): string[] {
  const out: string[] = [];
  const expected = policies.flatMap(p => p.cidrs.map(cidr => ({
    action: p.action, field: envoyField(p.field), cidr: normaliseCidr(cidr), negated: p.negated, policy: p.name,
  })));
  // Policies reach every listener of a gateway and the inbound listener of a sidecar.
  for (const l of r.listeners.filter(x => r.proxy.type === 'Router' || x.name === VIRTUAL_INBOUND)) {
    const rules = l.chains.flatMap(c => c.rbac.map(rule => ({ ...rule, cidr: normaliseCidr(rule.cidr) })));
    for (const e of expected) {
      const same = rules.filter(x => x.cidr === e.cidr && x.negated === e.negated && x.action === e.action);
      if (!same.some(x => x.field === e.field)) {
        out.push(where(`listener ${l.name}: policy ${e.policy} ${e.action} ${e.field} ${e.cidr} (negated ${e.negated}) is not in istiod's RBAC`));
      }
      const other = same.find(x => x.field !== e.field);
      if (other !== undefined) out.push(where(`listener ${l.name}: policy ${e.policy} ${e.cidr} lands on ${other.field} in istiod, the model says ${e.field}`));
    }
    for (const rule of rules) {
      if (!expected.some(e => e.cidr === rule.cidr && e.field === rule.field && e.action === rule.action && e.negated === rule.negated)) {
        out.push(where(`listener ${l.name}: istiod has ${rule.action} ${rule.field} ${rule.cidr} (negated ${rule.negated}), which the model does not predict`));
      }
    }
  }
  return out;
}

/** The constructs' own policies must be what the model reads back from their manifests. */
function declaredDisagreements(declared: DeclaredPolicy[], parsed: PredictedPolicy[]): string[] {
  const out: string[] = [];
  for (const d of declared) {
    const match = parsed.filter(p => p.name === d.name && p.namespace === d.namespace);
    const same = match.some(p => p.action === d.action && p.field === d.field && p.negated === d.negated
      && [...p.cidrs].map(normaliseCidr).sort().join() === [...d.cidrs].map(normaliseCidr).sort().join());
    if (!same) {
      out.push(`policy ${d.namespace}/${d.name}: the construct declared ${d.action} ${d.field} [${d.cidrs}] (negated ${d.negated}); its manifests read as ${JSON.stringify(match.map(p => `${p.action} ${p.field} [${p.cidrs}] negated ${p.negated}`))}`);
    }
  }
  return out;
}

/** A CIDR as address/prefix, host addresses with their full prefix. */
export function normaliseCidr(text: string): string {
  if (text.includes('/')) return text.toLowerCase();
  return `${text.toLowerCase()}/${text.includes(':') ? 128 : 32}`;
}
