import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import type { ExpectedGatewayApiGateway } from './fixtures';
import {
  CUSTOM_HEADER_DETECTION, INJECT_TEMPLATES_ANNOTATION, INTERCEPTION_MODE_ANNOTATION, SIDECAR_INJECT_LABEL, VIRTUAL_INBOUND_LISTENER, XFF_DETECTION,
} from '../../src/envoy/names';
import { WORKLOAD_KINDS } from '../../src/explain/read/objects';
import { ClientAddressHeader } from '../../src/mesh/client-address-header';
import { DATAPLANE_MODE_LABEL } from '../../src/model/ambient';
import { GATEWAY_NAME_LABEL } from '../../src/model/gateway-api';
import {
  ClientIpField, InterceptionMode, PolicyModel, ProxyProtocolMode, ProxyRole, SidecarXffMode, WorkloadModel,
} from '../../src/model/model';
import { RateLimitModel, rateLimitsOn } from '../../src/model/rate-limit';
import { policyReaches, selectorMatches } from '../../src/model/selectors';
import { listenerPortOf } from '../../src/model/servers';
import { Topology } from '../../src/model/topology';
import { isTrueEnv, TracedGateway, TraceModel } from '../../src/model/trace-model';
import { XffFilterModel } from '../../src/model/xff-filter-checks';
import { parseCidr } from '../../src/net/cidr';
import { waypointExpectations } from '../../src/trace/ambient-expectations';
import { TraceResult } from '../../src/trace/app-trace';
import { traceConstructs } from '../../src/trace/topology-trace';
import { PolicyMatch } from '../../src/trace/trace-types';
import { acceptsProxyProtocol } from '../../src/trace/workload-hop';

/*
 * What istiod must generate for each proxy of an object set, from the library's trace over the model the constructs
 * declare (never from the YAML under test): `expectations.json` next to the set's objects, which the Go stage
 * (conformance/istio/expectations.go) compares with istiod's output. Pod templates the library does not model (the
 * user's own Deployments of a scenario) are read from the construct tree in memory: they are the other end of a
 * filter or policy, and get Istio's defaults plus whatever the model's filters and policies do to them.
 */

/** An HTTP connection manager's client-address settings, as Envoy fields. */
export interface ExpectedHcm {
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  /** The original IP detection extension: "" (none), envoy.http.original_ip_detection.xff or .custom_header. */
  readonly detection: string;
  /** The xff extension's trusted CIDRs (masked). */
  readonly trustedCidrs: string[];
  /** The custom_header extension's header (lower case); "" when none or not known (a filter on a pod the library does not model). */
  readonly headerName: string;
}

/** One AuthorizationPolicy's rules as RBAC must show them on the proxy. */
export interface ExpectedRbac {
  /** `namespace/name`. */
  readonly policy: string;
  readonly action: string;
  /** remote_ip or direct_remote_ip. */
  readonly field: string;
  readonly negated: boolean;
  /** Masked CIDRs. */
  readonly cidrs: string[];
  /** Destination ports of the rule (`to.ports`); empty for any. */
  readonly ports: number[];
  /** False when the policy also matches HTTP attributes (paths, methods, ...), whose conditions are not compared. */
  readonly conditionsCompared: boolean;
  /** Listener names the policy must be on; empty for every listener of the proxy. */
  readonly listeners: string[];
}

/**
 * A per-client rate limit (Envoy's local rate limit with a value-less `remote_address` descriptor) as the proxy's HTTP
 * connection managers and virtual hosts must show it.
 */
export interface ExpectedRateLimit {
  /** `namespace/name` of the EnvoyFilter. */
  readonly rateLimit: string;
  /** The descriptor's token bucket: `tokens_per_fill`, `max_tokens` and `fill_interval` in milliseconds. */
  readonly tokensPerFill: number;
  readonly maxTokens: number;
  readonly fillIntervalMillis: number;
  /** `max_dynamic_descriptors`: the client buckets one proxy keeps. */
  readonly maxDynamicDescriptors: number;
}

/** A gateway listener: its port and PROXY protocol listener filter (none, optional or strict). */
export interface ExpectedListener {
  readonly port: number;
  readonly proxyProtocol: string;
}

/** What one proxy must get. */
export interface ExpectedProxy {
  readonly namespace: string;
  /** The pod template's name (a gateway's model name; an installed gateway's `istio`/`app` label). */
  readonly name: string;
  /** Labels the proxy's pod carries (a subset: the selector). */
  readonly labels: { [key: string]: string };
  /** gateway or sidecar. */
  readonly role: string;
  /** True for a gateway the set only selects (an installation): istiod runs it with the mesh defaults here. */
  readonly installed: boolean;
  /** Where the expectation comes from (the construct's model, a user pod with Istio's defaults, a scenario). */
  readonly source: string;
  /** Gateways: every listener. Installed gateways: empty (not compared). */
  readonly listeners: ExpectedListener[];
  /** Gateways: the status port's PROXY (none or optional); "" when not compared. */
  readonly statusPortProxyProtocol: string;
  /** Gateways: the Service in front (type and externalTrafficPolicy); absent when not compared. */
  readonly service?: { readonly name: string; readonly externalTrafficPolicy: string };
  /** Gateways: every HCM. */
  readonly hcm?: ExpectedHcm;
  /** Sidecars: REDIRECT, TPROXY or NONE. */
  readonly interceptionMode?: string;
  /** Sidecars: the inbound listener's PROXY filter (none, optional, strict). */
  readonly inboundProxyProtocol?: string;
  /** Sidecars: the inbound HCM on ports not in `hcmByPort`. */
  readonly inboundHcm?: ExpectedHcm;
  /** Sidecars: the inbound HCM on given pod ports (an XFF filter with a portNumber). */
  readonly hcmByPort?: { [port: string]: ExpectedHcm };
  readonly rbac: ExpectedRbac[];
  /**
   * The per-client rate limits the trace places on this proxy: each HCM in their context (a gateway's, a sidecar's
   * inbound ones) has their filter just before the router, and each virtual host a `remote_address` action; a proxy
   * with none has neither.
   */
  readonly rateLimits: ExpectedRateLimit[];
  /**
   * The client-address header this proxy writes (`clientAddressHeader()`, lower case): every route it forwards by, in
   * the writer's scope (a gateway's routes; a sidecar's inbound ones), sets it from the downstream address, overwriting
   * any incoming copy; "" when the proxy writes none (then no route of it writes the downstream address).
   */
  readonly clientAddressHeader: string;
}

/** An object of the set that reaches no proxy of the stage, and why that is right. */
export interface ExpectedDead {
  /** `Kind namespace/name`, as the Go stage names it. */
  readonly object: string;
  readonly reason: string;
}

/** The file the Go stage reads. */
export interface Expectations {
  /** What the expectations were computed from. */
  readonly from: string;
  readonly proxies: ExpectedProxy[];
  readonly dead: ExpectedDead[];
}

const DEFAULT_HCM: ExpectedHcm = { useRemoteAddress: false, xffNumTrustedHops: 0, detection: '', trustedCidrs: [], headerName: '' };

/** A pod template of the set, as the construct tree holds it in memory. */
interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
}

/** The expectations of the constructs under `inSet` (one chart, several, or a scenario), from their trace. */
export function expectationsOf(root: IConstruct, inSet: (c: IConstruct) => boolean, gatewayApi: ExpectedGatewayApiGateway[] = []): Expectations {
  const topology = Topology.of(root);
  const { model, result } = traceConstructs(topology, inSet);
  const stripping = topology.proxyProtocolFilters.filter(inSet).filter(f => f._stripsOnSidecarInbound);
  const expectations = expectationsFromTrace(model, result, podsOf(root, inSet), gatewayApi, stripping);
  // PROXY protocol listener filters on sidecars (a ProxyProtocolBackend's): the model knows their target, the
  // construct tree the EnvoyFilter's name.
  const dead = topology.proxyProtocolFilters.filter(inSet).flatMap(f => {
    if (expectations.proxies.some(x => x.namespace === f.namespace && selectorMatches(f.selector, x.labels))) return [];
    const known = model.workloads.find(w => w.namespace === f.namespace && selectorMatches(f.selector, w.selector));
    const backend = topology.proxyProtocolBackends.find(b => b.targetNamespace === f.namespace && selectorMatches(f.selector, b.targetSelector));
    const reason = known !== undefined
      ? `its workload ${known.namespace}/${known.name} is known by its labels only: no pod of the set runs it`
      : backend !== undefined ? `the PROXY protocol backend ${f.namespace} ${JSON.stringify(backend.targetSelector)} is the user's workload, declared by its labels: no pod of the set runs it` : undefined;
    if (reason === undefined) return [];
    return f.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'EnvoyFilter')
      .map(o => ({ object: `EnvoyFilter ${o.metadata.namespace ?? 'default'}/${o.name}`, reason }));
  });
  // The client-address header a sidecar workload writes (an EnvoyFilter under the workload construct): dead with the
  // workload when no pod of the set runs it.
  const headers = topology.workloads.filter(inSet).flatMap(w => {
    const m = w._workloadModel();
    if (m === undefined || m.clientAddressHeader === undefined) return [];
    if (expectations.proxies.some(x => x.namespace === m.namespace && selectorMatches(m.selector, x.labels))) return [];
    const reason = `its workload ${m.namespace}/${m.name} is known by its labels only: no pod of the set runs it`;
    return w.node.findAll().flatMap(c => (c instanceof ClientAddressHeader && c.envoyFilter ? [c.envoyFilter] : []))
      .map(o => ({ object: `EnvoyFilter ${o.metadata.namespace ?? 'default'}/${o.name}`, reason }));
  });
  return { ...expectations, dead: [...expectations.dead, ...dead, ...headers] };
}

function podsOf(root: IConstruct, inSet: (c: IConstruct) => boolean): Pod[] {
  const ambientNamespaces = new Set<string>();
  const pods: Pod[] = [];
  for (const c of root.node.findAll()) {
    if (!ApiObject.isApiObject(c) || !inSet(c)) continue;
    const json = c.toJson();
    if (c.kind === 'Namespace' && json.metadata?.labels?.[DATAPLANE_MODE_LABEL] === 'ambient') ambientNamespaces.add(json.metadata.name);
    if (!WORKLOAD_KINDS.includes(c.kind)) continue;
    const meta = c.kind === 'Pod' ? json.metadata : json.spec?.template?.metadata;
    pods.push({ namespace: json.metadata?.namespace ?? 'default', name: json.metadata?.name, labels: meta?.labels ?? {}, annotations: meta?.annotations ?? {} });
  }
  return pods.filter(p => p.labels[SIDECAR_INJECT_LABEL] !== 'false' && p.annotations[SIDECAR_INJECT_LABEL] !== 'false'
    && p.labels[DATAPLANE_MODE_LABEL] !== 'ambient' && !(ambientNamespaces.has(p.namespace) && p.labels[SIDECAR_INJECT_LABEL] !== 'true'));
}

/** What the trace over `model` says each proxy of the set must get; `result` is that trace (its hops give each proxy's policies). */
export function expectationsFromTrace(model: TraceModel, result: TraceResult, pods: Pod[], gatewayApi: ExpectedGatewayApiGateway[] = [],
  stripping: ReadonlyArray<{ readonly namespace: string; readonly selector: { [key: string]: string } }> = []): Expectations {
  const traced = tracedPolicies(result);
  const tracedLimits = tracedRateLimits(result);
  const proxies: ExpectedProxy[] = [];
  const gatewayPods = new Set<Pod>();
  for (const gw of model.gateways) {
    const m = gw.model;
    const own = pods.filter(p => p.namespace === m.namespace && selectorMatches(m.selector, p.labels));
    own.forEach(p => gatewayPods.add(p));
    const gatewayApiPod = m.selector[GATEWAY_NAME_LABEL] !== undefined;
    const installed = own.length === 0 && !gatewayApiPod;
    // An Istio Gateway's selector picks gateway pods in every namespace: an installation is stood for only when no
    // pod of the set carries its labels (the Go stage does the same).
    if (installed && pods.some(p => selectorMatches(m.selector, p.labels))) continue;
    // The trace names a gateway hop by namespace and name: two gateways of one name (a classic one and a Gateway API
    // one) share their hops there, so only the selectors tell their policies apart.
    const unique = model.gateways.filter(g => g.model.namespace === m.namespace && g.model.name === m.name).length === 1;
    const expected = gatewayExpectation(gw, installed, gatewayApiPod, model);
    if (unique) agreeOnRateLimits(expected, tracedLimits.get(`gateway ${m.namespace}/${m.name}`));
    proxies.push(unique ? withTracedRbac(expected, traced.get(`gateway ${m.namespace}/${m.name}`), model) : expected);
  }
  for (const e of gatewayApi) proxies.push(handWrittenGatewayApi(e));
  for (const pod of pods) {
    if (gatewayPods.has(pod) || pod.annotations[INJECT_TEMPLATES_ANNOTATION] === 'gateway') continue;
    const wl = model.workloads.find(w => w.namespace === pod.namespace && w.role !== ProxyRole.AMBIENT && selectorMatches(w.selector, pod.labels));
    const strips = stripping.some(f => f.namespace === pod.namespace && selectorMatches(f.selector, pod.labels));
    const sidecar = sidecarExpectation(pod, wl, model, strips);
    if (wl !== undefined) agreeOnRateLimits(sidecar, tracedLimits.get(`workload ${wl.namespace}/${wl.name}`));
    proxies.push(wl === undefined ? sidecar : withTracedRbac(sidecar, traced.get(`workload ${wl.namespace}/${wl.name}`), model));
  }
  return { from: 'trace() over the constructs\' TraceModel (src/trace/topology-trace.ts traceConstructs)', proxies, dead: deadObjects(model, proxies) };
}

function gatewayExpectation(gw: TracedGateway, installed: boolean, gatewayApiPod: boolean, model: TraceModel): ExpectedProxy {
  const m = gw.model;
  const ppPorts = m.proxyProtocolPorts.map(p => m.servers.find(s => s.port === p && s.targetPort !== undefined)?.targetPort ?? p);
  const ports = [...new Set(m.servers.map(listenerPortOf))].sort((a, b) => a - b);
  const labels = { ...m.selector };
  return {
    namespace: m.namespace,
    name: installed ? (m.selector.istio ?? m.selector.app ?? m.name) : m.name,
    labels,
    role: 'gateway',
    installed,
    source: `gateway model ${m.namespace}/${m.name}${gatewayApiPod ? ' (Gateway API: the pod istiod renders)' : ''}`,
    listeners: installed ? [] : ports.map(port => ({ port, proxyProtocol: expectedProxyProtocol(m.proxyProtocol, ppPorts, port) })),
    statusPortProxyProtocol: installed || !gw.agentEnvKnown ? '' : isTrueEnv(gw.statusPortProxyProtocolEnv?.value) ? 'optional' : 'none',
    ...(installed || m.serviceName === undefined ? {} : { service: { name: m.serviceName, externalTrafficPolicy: m.externalTrafficPolicy } }),
    hcm: { ...DEFAULT_HCM, useRemoteAddress: true, xffNumTrustedHops: installed ? -1 : m.numTrustedProxies },
    rbac: rbacFor(model, m.namespace, labels, true, gatewayApiPod ? m.selector[GATEWAY_NAME_LABEL] : undefined),
    rateLimits: rateLimitsFor(model, ProxyRole.GATEWAY, m.namespace, labels),
    clientAddressHeader: m.clientAddressHeader?.toLowerCase() ?? '',
  };
}

/** A Gateway API gateway of a scenario written as plain objects: the scenario's own expectation (not the YAML). */
function handWrittenGatewayApi(e: ExpectedGatewayApiGateway): ExpectedProxy {
  const labels = { [GATEWAY_NAME_LABEL]: e.gateway };
  const rbac = e.rbac.map(r => r.split(' ')).map(([action, field, cidr]) => ({ action, field, cidr: maskedCidr(cidr) }));
  const policies = [...new Set(rbac.map(r => `${r.action} ${r.field}`))].map(k => {
    const [action, field] = k.split(' ');
    return {
      policy: '',
      action,
      field,
      negated: false,
      cidrs: rbac.filter(r => r.action === action && r.field === field).map(r => r.cidr).sort(),
      ports: [],
      conditionsCompared: true,
      listeners: [],
    };
  });
  return {
    namespace: e.namespace,
    name: `${e.gateway}-istio`,
    labels,
    role: 'gateway',
    installed: false,
    source: `the scenario's Gateway API expectation for Gateway ${e.namespace}/${e.gateway}`,
    listeners: e.listenerPorts.map(port => ({ port, proxyProtocol: e.proxyProtocol })),
    statusPortProxyProtocol: e.statusPortProxyProtocol,
    service: { name: `${e.gateway}-istio`, externalTrafficPolicy: e.externalTrafficPolicy },
    hcm: { ...DEFAULT_HCM, useRemoteAddress: true, xffNumTrustedHops: e.trustedHops },
    rbac: policies,
    rateLimits: [],
    clientAddressHeader: '',
  };
}

function sidecarExpectation(pod: Pod, wl: WorkloadModel | undefined, model: TraceModel, strips: boolean): ExpectedProxy {
  const base = {
    namespace: pod.namespace,
    name: pod.name,
    labels: { ...pod.labels },
    role: 'sidecar',
    installed: false,
    listeners: [],
    statusPortProxyProtocol: '',
    rbac: rbacFor(model, pod.namespace, pod.labels, false),
    rateLimits: rateLimitsFor(model, ProxyRole.SIDECAR, pod.namespace, pod.labels),
    clientAddressHeader: '',
  };
  if (wl !== undefined) {
    const hcm = hcmOf(wl.xffMode, wl.xffTrustedHops ?? 0, wl.xffTrustedCidrs ?? [], wl.clientHeaderName);
    const ports = wl.xffPorts ?? [];
    return {
      ...base,
      clientAddressHeader: wl.clientAddressHeader?.toLowerCase() ?? '',
      source: `workload model ${wl.namespace}/${wl.name}`,
      interceptionMode: wl.interceptionMode,
      inboundProxyProtocol: acceptsProxyProtocol(wl) ? 'strict' : 'none',
      inboundHcm: ports.length === 0 ? hcm : DEFAULT_HCM,
      hcmByPort: Object.fromEntries(ports.map(p => [String(p), hcm])),
    };
  }
  // A pod the library does not model: Istio's defaults, the annotation its author wrote, and the model's filters.
  const filter = model.xffFilters.find(f => filterReaches(f, pod));
  const hcm = filter === undefined ? DEFAULT_HCM : hcmOf(filter.settings.mode, filter.settings.hops ?? 0, filter.settings.cidrs);
  const byPort = filter?.portNumber !== undefined;
  const proxyProtocol = strips || model.proxyProtocolTo.has(`${pod.namespace}/${pod.name}`);
  return {
    ...base,
    source: 'a pod the library does not model: Istio\'s defaults and the model\'s filters and policies',
    interceptionMode: pod.annotations[INTERCEPTION_MODE_ANNOTATION] ?? InterceptionMode.REDIRECT,
    inboundProxyProtocol: proxyProtocol ? 'strict' : 'none',
    inboundHcm: byPort ? DEFAULT_HCM : hcm,
    hcmByPort: byPort ? { [String(filter!.portNumber)]: hcm } : {},
  };
}

function filterReaches(f: XffFilterModel, pod: Pod): boolean {
  return (f.namespace === pod.namespace || f.namespace === f.rootNamespace) && selectorMatches(f.selector, pod.labels);
}

function hcmOf(mode: SidecarXffMode, hops: number, cidrs: string[], header?: string): ExpectedHcm {
  switch (mode) {
    case SidecarXffMode.USE_REMOTE_ADDRESS: return { ...DEFAULT_HCM, useRemoteAddress: true };
    case SidecarXffMode.TRUSTED_HOPS: return { ...DEFAULT_HCM, xffNumTrustedHops: hops };
    case SidecarXffMode.TRUSTED_CIDRS: return { ...DEFAULT_HCM, detection: XFF_DETECTION, trustedCidrs: cidrs.map(maskedCidr).sort() };
    case SidecarXffMode.CUSTOM_HEADER: return { ...DEFAULT_HCM, detection: CUSTOM_HEADER_DETECTION, headerName: header ?? '' };
    default: return DEFAULT_HCM;
  }
}

/** none, strict or optional: what a gateway listener on `port` accepts in the model's PROXY mode. */
export function expectedProxyProtocol(mode: string, ports: number[], port: number): string {
  switch (mode) {
    case ProxyProtocolMode.STRICT: return 'strict';
    case ProxyProtocolMode.OPTIONAL: return ports.length === 0 || ports.includes(port) ? 'optional' : 'none';
    case ProxyProtocolMode.STRICT_PER_PORT: return ports.includes(port) ? 'strict' : 'none';
    default: return 'none';
  }
}

/**
 * The policies the trace applied at each gateway (`gateway ns/name`) and sidecar (`workload ns/name`) hop of its paths,
 * by `namespace/name`.
 */
function tracedPolicies(result: TraceResult): Map<string, Map<string, PolicyMatch>> {
  const out = new Map<string, Map<string, PolicyMatch>>();
  for (const path of result.paths) {
    const workload = /-> workload (\S+)$/.exec(path.title)?.[1];
    for (const hop of path.hops) {
      const key = hop.hop.startsWith('gateway ') ? hop.hop : hop.hop.startsWith('sidecar ') && workload !== undefined ? `workload ${workload}` : undefined;
      if (key === undefined) continue;
      const matches = out.get(key) ?? new Map<string, PolicyMatch>();
      for (const m of hop.policies) matches.set(m.policy, m);
      out.set(key, matches);
    }
  }
  return out;
}

/** The rate limits the trace applied at each gateway and sidecar hop of its paths (keys as `tracedPolicies`). */
function tracedRateLimits(result: TraceResult): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const path of result.paths) {
    const workload = /-> workload (\S+)$/.exec(path.title)?.[1];
    for (const hop of path.hops) {
      const key = hop.hop.startsWith('gateway ') ? hop.hop : hop.hop.startsWith('sidecar ') && workload !== undefined ? `workload ${workload}` : undefined;
      if (key === undefined) continue;
      const names = out.get(key) ?? new Set<string>();
      for (const l of hop.rateLimits ?? []) names.add(l.rateLimit);
      out.set(key, names);
    }
  }
  return out;
}

/**
 * The trace and the selector reading (`rateLimitsFor`) must agree on a proxy's rate limits wherever the trace applied
 * one there (it applies none on a path that is not HTTP): a difference is a bug of one of them, and stops the fixtures.
 */
function agreeOnRateLimits(proxy: ExpectedProxy, traced: Set<string> | undefined): void {
  if (traced === undefined || traced.size === 0) return;
  const names = (list: Iterable<string>) => [...new Set(list)].sort().join(', ');
  if (names(traced) !== names(proxy.rateLimits.map(l => l.rateLimit))) {
    throw new Error(`${proxy.role} ${proxy.namespace}/${proxy.name}: the trace applies rate limits [${names(traced)}], the selectors give [${names(proxy.rateLimits.map(l => l.rateLimit))}]`);
  }
}

/** The model's per-client rate limits on a proxy of `role` with `labels` in `namespace`, as Envoy fields. */
function rateLimitsFor(model: TraceModel, role: ProxyRole, namespace: string, labels: { [key: string]: string }): ExpectedRateLimit[] {
  return rateLimitsOn(model.rateLimits, role, namespace, labels, model.rootNamespaces).map(expectedRateLimit);
}

function expectedRateLimit(l: RateLimitModel): ExpectedRateLimit {
  return {
    rateLimit: `${l.namespace}/${l.name}`,
    tokensPerFill: l.requests,
    maxTokens: l.burst,
    fillIntervalMillis: l.fillIntervalMillis,
    maxDynamicDescriptors: l.maxClients,
  };
}

/**
 * A proxy's RBAC expectation from the policies the trace applied at its hop, when the trace walked through it (its
 * ports and conditions from the model's policy). The trace and the selector reading (`rbacFor`) must agree on which
 * policies those are: a difference is a bug of one of them, and stops the fixtures.
 */
function withTracedRbac(proxy: ExpectedProxy, matches: Map<string, PolicyMatch> | undefined, model: TraceModel): ExpectedProxy {
  if (matches === undefined || proxy.installed && matches.size === 0) return proxy;
  const traced = [...matches.values()];
  const names = (list: string[]) => [...new Set(list)].sort().join(', ');
  if (names(traced.map(m => m.policy)) !== names(proxy.rbac.map(r => r.policy))) {
    throw new Error(`${proxy.role} ${proxy.namespace}/${proxy.name}: the trace applies [${names(traced.map(m => m.policy))}], the selectors give [${names(proxy.rbac.map(r => r.policy))}]`);
  }
  const rbac = traced.map(m => {
    const policy = model.policies.find(p => `${p.namespace}/${p.name}` === m.policy)!;
    const fromSelectors = proxy.rbac.find(r => r.policy === m.policy)!;
    return {
      ...fromSelectors,
      action: m.action,
      field: m.field.toLowerCase().includes('remote') ? 'remote_ip' : 'direct_remote_ip',
      negated: m.field.startsWith('not'),
      cidrs: m.cidrs.map(maskedCidr).sort(),
      conditionsCompared: policy.matchesHttpAttributes !== true,
    };
  });
  return { ...proxy, rbac, source: `${proxy.source}; RBAC from the policies the trace applies at its hop` };
}

/** The policies of the model that reach a proxy with `labels` in `namespace`, as its RBAC filters must show them. */
function rbacFor(model: TraceModel, namespace: string, labels: { [key: string]: string }, gateway: boolean, gatewayApiName?: string): ExpectedRbac[] {
  return model.policies.filter(p => reaches(p, model, namespace, labels, gatewayApiName)).map(p => ({
    policy: `${p.namespace}/${p.name}`,
    action: p.action,
    field: p.field === ClientIpField.REMOTE_IP_BLOCKS ? 'remote_ip' : 'direct_remote_ip',
    negated: p.negated,
    cidrs: p.cidrs.map(maskedCidr).sort(),
    ports: [...(p.ports ?? [])].sort((a, b) => a - b),
    conditionsCompared: p.matchesHttpAttributes !== true,
    listeners: gateway ? [] : [VIRTUAL_INBOUND_LISTENER],
  }));
}

function reaches(p: PolicyModel, model: TraceModel, namespace: string, labels: { [key: string]: string }, gatewayApiName?: string): boolean {
  const refs = p.targetRefs ?? [];
  if (refs.length > 0) {
    return p.namespace === namespace && gatewayApiName !== undefined && refs.some(r => r.kind === 'Gateway' && r.name === gatewayApiName);
  }
  return policyReaches(p.namespace, false, namespace, model.rootNamespaces) && selectorMatches(p.selector, labels);
}

/**
 * The policies and filters of the model that reach no proxy of the set, each with the model's reason; one without a
 * reason is left out, and the Go stage fails on it.
 */
function deadObjects(model: TraceModel, proxies: ExpectedProxy[]): ExpectedDead[] {
  const out: ExpectedDead[] = [];
  const unreached = (namespace: string, selector: { [key: string]: string }, root: boolean) =>
    !proxies.some(x => (x.namespace === namespace || root) && selectorMatches(selector, x.labels));
  // Policies a waypoint enforces reach the waypoint proxy the stage generates; test/conformance/ambient.test.ts compares them.
  const onWaypoints = new Set(waypointExpectations(model).flatMap(w => w.policies));
  for (const p of model.policies) {
    if (onWaypoints.has(p)) continue;
    const refs = p.targetRefs ?? [];
    const live = refs.length > 0
      ? proxies.some(x => x.namespace === p.namespace && refs.some(r => r.kind === 'Gateway' && x.labels[GATEWAY_NAME_LABEL] === r.name))
      : !unreached(p.namespace, p.selector, model.rootNamespaces.includes(p.namespace));
    if (live) continue;
    const reason = deadPolicyReason(p, model);
    if (reason !== undefined) out.push({ object: `AuthorizationPolicy ${p.namespace}/${p.name}`, reason });
  }
  for (const f of model.xffFilters) {
    if (!unreached(f.namespace, f.selector, f.namespace === f.rootNamespace)) continue;
    const known = model.workloads.find(w => w.namespace === f.namespace && selectorMatches(f.selector, w.selector));
    if (known !== undefined) out.push({ object: `EnvoyFilter ${f.namespace}/${f.name}`, reason: `its workload ${known.namespace}/${known.name} is known by its labels only: no pod of the set runs it` });
  }
  for (const l of model.rateLimits) {
    if (!unreached(l.namespace, l.selector, model.rootNamespaces.includes(l.namespace))) continue;
    const known = model.workloads.find(w => w.namespace === l.namespace && selectorMatches(l.selector, w.selector));
    if (known !== undefined) out.push({ object: `EnvoyFilter ${l.namespace}/${l.name}`, reason: `its workload ${known.namespace}/${known.name} is known by its labels only: no pod of the set runs it` });
  }
  return out;
}

function deadPolicyReason(p: PolicyModel, model: TraceModel): string | undefined {
  // A policy attached by targetRefs that no proxy and no waypoint of the trace carries has no reason to be dead.
  if ((p.targetRefs ?? []).length > 0) return undefined;
  const target = model.workloads.find(w => w.namespace === p.namespace && selectorMatches(p.selector, w.selector));
  if (target?.role === ProxyRole.AMBIENT) return `its workload ${target.namespace}/${target.name} is ambient: ztunnel enforces the policy, no Envoy of the set does`;
  if (target !== undefined) return `its workload ${target.namespace}/${target.name} is known by its labels only: no pod of the set runs it`;
  return undefined;
}

/** A CIDR or address as Envoy's CidrRange matches it: host bits cleared, a bare address with its full prefix. */
export function maskedCidr(text: string): string {
  return parseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`).text;
}
