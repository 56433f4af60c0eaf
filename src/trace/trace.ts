import * as ipaddr from 'ipaddr.js';
import { SelectorIndex } from './selector-index';
import { HopTrace, PathTrace, PolicyMatch } from './trace-types';
import { isPrivateAddress, resolveClientAddress } from './xff-rule';
import { INBOUND_PASSTHROUGH_IPV4 } from '../envoy/names';
import { waypointsOfPolicy } from '../model/ambient';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { IstioVersion } from '../model/istio-version';
import {
  ClientIpField, ExternalTrafficPolicy, InterceptionMode, PolicyModel, ProxyProtocolMode, ProxyProtocolVersion, ProxyRole, SidecarXffMode,
  WorkloadModel,
} from '../model/model';
import { policyReaches } from '../model/selectors';
import { isOpaqueServer } from '../model/servers';
import { MAX_ASSUMED_PROXIES, RouteProtocol, TraceModel, TracedGateway } from '../model/trace-model';
import { TrustChain, TrustHop } from '../model/trust-chain';
import { addressInCidr, Cidr, parseCidr } from '../net/cidr';

/*
 * Walks client -> hops in front -> node -> gateway -> sidecar -> app with documentation addresses and
 * Envoy's rule at each Envoy, then again with a forged X-Forwarded-For to see what a client can change.
 */

/** Documentation addresses used by every trace (RFC 5737 and cluster-private ranges). */
export const ADDRESSES = {
  client: '203.0.113.10',
  forged: ['192.0.2.66', '192.0.2.67', '192.0.2.68', '192.0.2.69'],
  /** A client that skips the CDN and connects to the next hop (or the gateway) itself. */
  bypassing: '203.0.113.66',
  node: '10.0.0.4',
  gatewayPod: '10.244.0.5',
  meshClientPod: '10.244.2.9',
  waypointPod: '10.244.3.7',
  redirectPeer: INBOUND_PASSTHROUGH_IPV4,
};

/** Workloads traced behind a gateway that no VirtualService binds: a sample, so that output stays linear. */
export const MAX_UNROUTED_WORKLOADS = 16;
/** Policy matches listed per hop: the rest are counted in the hop's note, so that output stays linear. */
export const MAX_POLICIES_PER_HOP = 32;

/** What every step of a trace needs from the whole input. */
interface TraceContext {
  readonly policies: PolicyModel[];
  /** The policies by namespace and selector, so that finding a pod's policies stays constant time. */
  readonly policyIndex: SelectorIndex<PolicyModel>;
  readonly rootNamespaces: string[];
  /** Envoy 1.32 (Istio 1.24): private peers are internal by default. */
  readonly privateAddressesAreInternal: boolean;
  /** Workloads whose callers send PROXY protocol (a DestinationRule), by `namespace/name`. */
  readonly proxyProtocolTo: Map<string, ProxyProtocolVersion>;
  /** Policies attached to each waypoint (`namespace/name`) with targetRefs. */
  readonly waypointPolicies: Map<string, PolicyModel[]>;
}

interface Wire {
  /** L3 source of the packets. */
  readonly peer: string;
  /** Source address carried by a PROXY header. */
  readonly proxySource?: string;
  readonly xff: string[];
  /** Client-address headers set by a hop (`TrustHop.clientHeader`) or forged by the client, lower-case names. */
  readonly headers?: { readonly [name: string]: string };
}

interface FrontResult {
  readonly hops: HopTrace[];
  readonly wire: Wire;
  readonly addresses: Map<string, string>;
}

/** Traces every path of the model with `version`'s Envoy defaults; findings about the whole model are returned apart. */
export function tracePaths(parsed: TraceModel, version: IstioVersion): { paths: PathTrace[]; findings: Finding[] } {
  const policyIndex = new SelectorIndex<PolicyModel>();
  const waypointPolicies = new Map<string, PolicyModel[]>();
  for (const p of parsed.policies) {
    // Sidecars, classic gateways and ztunnel ignore policies attached with targetRefs; the Gateway API gateways and
    // waypoints they name enforce them. A Gateway API gateway's policies carry its pods' labels as their selector,
    // a waypoint's carry none.
    if ((p.targetRefs ?? []).length === 0 || Object.keys(p.selector).length > 0) policyIndex.add(p.namespace, p.selector, p);
    for (const w of waypointsOfPolicy(p, parsed.waypoints, name => parsed.workloadsOfService(p.namespace, name))) {
      const key = `${w.namespace}/${w.name}`;
      waypointPolicies.set(key, [...(waypointPolicies.get(key) ?? []), p]);
    }
  }
  const ctx: TraceContext = {
    waypointPolicies,
    policies: parsed.policies,
    policyIndex,
    rootNamespaces: parsed.rootNamespaces,
    privateAddressesAreInternal: !version.noInternalAddressesByDefault,
    proxyProtocolTo: parsed.proxyProtocolTo,
  };
  const paths: PathTrace[] = [];
  const findings: Finding[] = [];
  const byName = new Map<string, WorkloadModel[]>();
  const position = new Map<WorkloadModel, number>(parsed.workloads.map((w, i) => [w, i]));
  for (const w of parsed.workloads) {
    const key = `${w.namespace}/${w.name}`;
    const list = byName.get(key);
    if (list) list.push(w);
    else byName.set(key, [w]);
  }
  for (const gw of parsed.gateways) {
    const routed = parsed.routes.get(`${gw.model.namespace}/${gw.model.name}`);
    if (!routed) {
      // Nothing says what is behind the gateway: every protocol of its servers to a sample of the workloads.
      const sample = unroutedSample(gw, parsed, findings);
      const behind = sample.length > 0 ? sample : [undefined];
      for (const protocol of protocolsOf(gw)) {
        for (const wl of behind) paths.push(traceNorthSouth(gw, wl, protocol, ctx));
      }
      continue;
    }
    // Each workload with the protocols its routes carry: a TCP route's backend is not traced as HTTP.
    const candidates = [...routed.keys()].flatMap(key => byName.get(key) ?? []).sort((a, b) => position.get(a)! - position.get(b)!);
    const protocols = [...new Set([...protocolsOf(gw), ...[...routed.values()].flatMap(p => [...p])])].sort(byProtocol);
    for (const protocol of protocols) {
      const behind = candidates.filter(w => routed.get(`${w.namespace}/${w.name}`)!.has(protocol as RouteProtocol));
      if (behind.length === 0 && candidates.length > 0) continue;
      for (const wl of behind.length > 0 ? behind : [undefined]) paths.push(traceNorthSouth(gw, wl, protocol, ctx));
    }
  }
  for (const wl of parsed.workloads) paths.push(traceEastWest(wl, ctx));
  findings.push(...waypointPolicyFindings(parsed, ctx));
  return { paths, findings };
}

/**
 * What the policies attached to each waypoint match for ingress traffic that passes it, from every gateway that
 * serves HTTP: the waypoint takes remote.ip from the rightmost X-Forwarded-For entry, which the gateway appended for
 * its own peer, and source.ip is the gateway pod. Reported on the waypoint, whatever workloads use it.
 */
function waypointPolicyFindings(parsed: TraceModel, ctx: TraceContext): Finding[] {
  const findings: Finding[] = [];
  const httpGateways = parsed.gateways.filter(g => protocolsOf(g).includes('HTTP'));
  for (const [key, policies] of ctx.waypointPolicies) {
    const where = `waypoint ${key}`;
    const remote = policies.filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
    const external = policies.filter(p => p.field === ClientIpField.IP_BLOCKS && listsOnlyExternalRanges(p));
    for (const gw of remote.length > 0 ? httpGateways : []) {
      const step = throughGateway(gw, 'HTTP', ctx, []);
      const entries = (step.forwardedFor ?? '').split(',').map(e => e.trim()).filter(e => e !== '');
      const seen = entries.length > 0 ? entries[entries.length - 1] : ADDRESSES.gatewayPod;
      if (seen === ADDRESSES.client) continue;
      const what = step.addresses.get(seen) ?? (seen === ADDRESSES.gatewayPod ? 'the gateway pod' : 'the gateway\'s peer');
      findings.push(finding(FindingSeverity.WARNING, where, `for ingress traffic from gateway ${gw.model.namespace}/${gw.model.name}, remoteIpBlocks in ${names(remote)} match ${seen} (${what}), the rightmost X-Forwarded-For entry, which the gateway appended for its own peer: not the client`,
        'enforce client addresses at the gateway (remoteIpBlocks there), or make the gateway see the client as its peer (externalTrafficPolicy Local with no L7 hop in front, or PROXY protocol)'));
    }
    if (external.length > 0 && httpGateways.length + parsed.gateways.length > 0) {
      findings.push(finding(FindingSeverity.WARNING, where, `ipBlocks in ${names(external)} list only external ranges, but on the waypoint ipBlocks match the caller ztunnel restores: for ingress traffic that is the gateway pod (${ADDRESSES.gatewayPod}), never an external client`,
        'match external clients with remoteIpBlocks at the gateway; on the waypoint, ipBlocks can only tell in-mesh callers apart'));
    }
  }
  return findings;
}

/** True when every CIDR of the policy is outside the private, unique-local and loopback ranges (client ranges). */
function listsOnlyExternalRanges(p: PolicyModel): boolean {
  return p.cidrs.length > 0 && p.cidrs.every(c => !isPrivateAddress(c.split('/')[0]) && !c.startsWith('100.64.'));
}

/**
 * Without a VirtualService, any workload may be behind the gateway; tracing every gateway to every workload grows
 * with their product, so explain traces the first few and says so.
 */
function unroutedSample(gw: TracedGateway, parsed: TraceModel, findings: Finding[]): WorkloadModel[] {
  if (parsed.workloads.length <= MAX_UNROUTED_WORKLOADS) return parsed.workloads;
  findings.push(finding(FindingSeverity.INFO, `gateway ${gw.model.namespace}/${gw.model.name}`,
    `no VirtualService binds this gateway: traced to the first ${MAX_UNROUTED_WORKLOADS} of ${parsed.workloads.length} workloads only`,
    'give explain the VirtualServices that bind the gateway, so that it traces the workloads they route to'));
  return parsed.workloads.slice(0, MAX_UNROUTED_WORKLOADS);
}

/** HTTP paths first, then TCP. */
function byProtocol(a: string, b: string): number {
  return a === b ? 0 : a === 'HTTP' ? -1 : 1;
}

function protocolsOf(gw: TracedGateway): string[] {
  const servers = gw.model.servers;
  if (servers.length === 0) return ['HTTP'];
  const tcp = servers.some(isOpaqueServer);
  const http = servers.some(s => !isOpaqueServer(s));
  return [...(http ? ['HTTP'] : []), ...(tcp ? ['TCP'] : [])];
}

/** The hops in front: the declared chain, else numTrustedProxies assumed L7 proxies plus the Service's load balancer. */
function frontChain(gw: TracedGateway, protocol: string, notes: Finding[], where: string): TrustChain {
  // HTTP proxies (CDN, L7 load balancer) do not carry TCP or TLS passthrough: TCP clients skip them.
  if (gw.trustChain) return protocol === 'HTTP' ? gw.trustChain : TrustChain.of(...gw.trustChain.hops.filter(h => !h.appendsXff));
  const hops: TrustHop[] = [];
  // HTTP proxies do not carry TCP or TLS passthrough: a TCP client reaches the load balancer directly. Above the
  // cap the parser reported the count as impossible; drawing a billion hops would only exhaust memory.
  const assumed = protocol === 'HTTP' && gw.model.numTrustedProxies <= MAX_ASSUMED_PROXIES ? gw.model.numTrustedProxies : 0;
  for (let i = 1; i <= assumed; i++) hops.push(TrustHop.l7LoadBalancer({ name: `assumed-l7-proxy-${i}` }));
  if (assumed > 0) {
    notes.push(finding(FindingSeverity.INFO, where, `no trust chain declared: assumed ${gw.model.numTrustedProxies} X-Forwarded-For appending proxies in front, as numTrustedProxies says`,
      'declare the real hops with the source-ip.cdk8s.io/trust-chain annotation to check numTrustedProxies against them'));
  }
  if (gw.serviceType === 'LoadBalancer') {
    hops.push(gw.loadBalancerSendsProxyProtocol ? TrustHop.l4ProxyProtocol({ name: 'cloud-lb' }) : TrustHop.l4PassThrough({ name: 'cloud-lb' }));
  }
  return TrustChain.of(...hops);
}

function hopAddress(hop: TrustHop, index: number): string {
  const v4 = hop.cidrs.find(c => !c.includes(':'));
  if (v4) {
    const bytes = ipaddr.parse(v4.split('/')[0]).toByteArray();
    if (Number(v4.split('/')[1]) < 32) bytes[3] += 1;
    return ipaddr.fromByteArray(bytes).toString();
  }
  return `198.51.100.${11 + index}`;
}

/**
 * The address of a hop's inner tier: the next address (else the one before) inside the hop's IPv4 block, so that a
 * gateway that trusts the block trusts both tiers; the hop's own address when the block holds only that one.
 */
function innerTierAddress(hop: TrustHop, address: string): string {
  const v4 = hop.cidrs.find(c => !c.includes(':'));
  const block = v4 === undefined ? undefined : parseCidr(v4);
  const value = ipaddr.IPv4.parse(address).toByteArray().reduce((v, b) => v * 256 + b, 0);
  for (const candidate of [value + 1, value - 1]) {
    if (candidate < 0 || candidate > 0xffffffff) continue;
    const text = [24, 16, 8, 0].map(shift => Math.floor(candidate / 2 ** shift) % 256).join('.');
    if (block === undefined || addressInCidr(text, block)) return text;
  }
  return address;
}

/** How the request enters the chain: the client's own XFF and headers, and from which hop on (a bypass skips some). */
interface Entry {
  readonly peer: string;
  readonly xff: string[];
  readonly headers?: { readonly [name: string]: string };
  /** Index of the first hop the client connects to. */
  readonly firstHop: number;
}

function walkFront(chain: TrustChain, clientXff: string[], entry?: Entry): FrontResult {
  const hops: HopTrace[] = [];
  const addresses = new Map<string, string>();
  let wire: Wire = entry ? { peer: entry.peer, xff: entry.xff, headers: entry.headers } : { peer: ADDRESSES.client, xff: clientXff };
  chain.hops.forEach((hop, i) => {
    if (entry && i < entry.firstHop) return;
    // The CDN overwrites its client header with the peer it saw, whatever the client sent.
    if (hop.clientHeader) wire = { ...wire, headers: { ...(wire.headers ?? {}), [hop.clientHeader]: wire.peer } };
    const address = hopAddress(hop, i);
    addresses.set(address, hop.name);
    hops.push({ hop: `${hop.kind} ${hop.name}`, socketPeer: wire.peer, xForwardedFor: join(wire.xff), policies: [] });
    if (hop.appendsXff && hop.variableHops) {
      // Trace the longer of the paths: an edge and one inner tier, each appending.
      const inner = innerTierAddress(hop, address);
      if (inner !== address) addresses.set(inner, `${hop.name} (inner tier)`);
      wire = { peer: inner, xff: [...wire.xff, wire.peer, address], headers: wire.headers };
    } else if (hop.appendsXff) {
      wire = { peer: address, xff: [...wire.xff, wire.peer], headers: wire.headers };
    } else if (hop.sendsProxyProtocol) {
      wire = { peer: address, proxySource: wire.peer, xff: wire.xff, headers: wire.headers };
    }
  });
  return { hops, wire, addresses };
}

function join(xff: string[]): string | undefined {
  return xff.length > 0 ? xff.join(',') : undefined;
}

interface GatewayStep {
  readonly hops: HopTrace[];
  readonly clientAddress: string;
  /** The gateway's downstream address (the socket peer, or the PROXY source): what an upstream PROXY header carries. */
  readonly downstreamAddress: string;
  /** True when the gateway marked the request internal (Envoy 1.32 defaults). */
  readonly internal: boolean;
  readonly forwardedFor?: string;
  readonly externalAddress?: string;
  readonly findings: Finding[];
  readonly addresses: Map<string, string>;
  readonly fellBack: boolean;
  /** Client-address headers the gateway forwards unchanged. */
  readonly headers?: { readonly [name: string]: string };
  /** True when an AuthorizationPolicy at the gateway denies the request. */
  readonly denied: boolean;
}

function throughGateway(gw: TracedGateway, protocol: string, ctx: TraceContext, clientXff: string[], entry?: Entry): GatewayStep {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const findings: Finding[] = [];
  const chain = frontChain(gw, protocol, findings, where);
  const front = walkFront(chain, clientXff, entry);
  const hops = [...front.hops];
  let wire = front.wire;
  const external = gw.serviceType === 'LoadBalancer' || gw.serviceType === 'NodePort' || gw.serviceType === undefined;
  if (external) {
    const snat = m.externalTrafficPolicy === ExternalTrafficPolicy.CLUSTER && !m.loadBalancerPreservesSource;
    hops.push({
      hop: 'node',
      socketPeer: wire.peer,
      proxyProtocolSource: wire.proxySource,
      xForwardedFor: join(wire.xff),
      policies: [],
      note: snat ? `externalTrafficPolicy Cluster: kube-proxy SNATs to the node IP ${ADDRESSES.node}` : 'externalTrafficPolicy Local: the packet source is kept',
    });
    if (snat) wire = { ...wire, peer: ADDRESSES.node };
  }
  const accepts = m.proxyProtocol !== ProxyProtocolMode.OFF;
  const sent = wire.proxySource !== undefined;
  if (sent && !accepts) {
    findings.push(finding(FindingSeverity.ERROR, where, 'the load balancer sends PROXY protocol but the gateway does not accept it: Envoy reads the PROXY header as the start of the request and the connection fails',
      'set gatewayTopology.proxyProtocol: {} on the gateway pods (ProxyProtocolGateway), or turn PROXY protocol off on the load balancer'));
  }
  if (!sent && m.proxyProtocol === ProxyProtocolMode.STRICT) {
    findings.push(finding(FindingSeverity.WARNING, where, 'the gateway requires PROXY protocol on every listener but nothing in front is declared to send it: connections without a PROXY header (health checks, in-cluster callers) fail',
      'enable PROXY protocol on the load balancer (e.g. service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*") and declare it in the trust chain, or remove gatewayTopology.proxyProtocol'));
  }
  if (gw.proxyProtocolTwice) {
    findings.push(finding(FindingSeverity.ERROR, where, 'PROXY protocol is enabled both by gatewayTopology.proxyProtocol and by an EnvoyFilter listener filter: the header is parsed twice',
      'keep one: gatewayTopology.proxyProtocol for every listener, or the EnvoyFilter for some ports'));
  }
  const downstream = sent && accepts ? wire.proxySource! : wire.peer;
  const gwPolicies = policiesFor(ctx, m.namespace, m.selector);
  let result: { trustedClientAddress: string; forwardedFor?: string; externalAddress?: string; internal?: boolean; fellBack: boolean };
  if (protocol === 'HTTP') {
    result = resolveClientAddress({
      useRemoteAddress: true,
      xffNumTrustedHops: m.numTrustedProxies,
      downstreamAddress: downstream,
      xForwardedFor: join(wire.xff),
      privateAddressesAreInternal: ctx.privateAddressesAreInternal,
    });
  } else {
    result = { trustedClientAddress: downstream, fellBack: false };
  }
  const gatewayMatches = matchPolicies(gwPolicies, wire.peer, result.trustedClientAddress);
  hops.push({
    hop: where,
    socketPeer: wire.peer,
    proxyProtocolSource: sent && accepts ? wire.proxySource : undefined,
    xForwardedFor: protocol === 'HTTP' ? join(wire.xff) : undefined,
    clientAddress: result.trustedClientAddress,
    policies: gatewayMatches,
    ...(result.internal ? { envoyInternal: true } : {}),
    note: policyNote(gwPolicies, protocol === 'TCP' ? 'TCP/TLS passthrough: no headers; only the packet source or PROXY protocol carry the client'
      : result.internal ? `Envoy 1.32 (Istio 1.24) defaults: ${result.trustedClientAddress} is a private address, so the request is internal (x-envoy-internal: true) and gets no X-Envoy-External-Address` : undefined),
  });
  const addresses = new Map(front.addresses);
  addresses.set(ADDRESSES.node, 'node');
  return {
    hops,
    findings,
    addresses,
    fellBack: result.fellBack,
    clientAddress: result.trustedClientAddress,
    downstreamAddress: downstream,
    internal: result.internal === true,
    forwardedFor: result.forwardedFor,
    externalAddress: result.externalAddress,
    headers: protocol === 'HTTP' ? wire.headers : undefined,
    denied: deniedBy(gatewayMatches),
  };
}

/** Istio's order: any matching DENY denies; then, with ALLOW policies present, a request no ALLOW matches is denied. */
function deniedBy(matches: PolicyMatch[]): boolean {
  if (matches.some(m => m.action === 'DENY' && m.matches)) return true;
  const allows = matches.filter(m => m.action === 'ALLOW');
  return allows.length > 0 && !allows.some(m => m.matches);
}

function traceNorthSouth(gw: TracedGateway, wl: WorkloadModel | undefined, protocol: string, ctx: TraceContext): PathTrace {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const honest = throughGateway(gw, protocol, ctx, []);
  const forged = throughGateway(gw, protocol, ctx, ADDRESSES.forged);
  const findings = [...honest.findings];
  gatewayFindings(gw, protocol, honest, forged, findings, where);
  const hops: HopTrace[] = [{ hop: `client ${ADDRESSES.client}`, policies: [] }, ...honest.hops];
  let appPeer = ADDRESSES.gatewayPod;
  let appXff = honest.forwardedFor;
  if (wl) {
    const wlWhere = `workload ${wl.namespace}/${wl.name}`;
    const proxied = ctx.proxyProtocolTo.get(`${wl.namespace}/${wl.name}`);
    const side = throughWorkload(wl, ADDRESSES.gatewayPod, honest.forwardedFor, honest.externalAddress, ctx, protocol, honest.headers,
      proxied ? honest.downstreamAddress : undefined);
    const sideForged = throughWorkload(wl, ADDRESSES.gatewayPod, forged.forwardedFor, forged.externalAddress, ctx, protocol, forged.headers,
      proxied ? forged.downstreamAddress : undefined);
    if (protocol === 'HTTP') bypassFindings(gw, wl, ctx, honest, findings, wlWhere);
    if (wl.xffMode === SidecarXffMode.TRUSTED_CIDRS && side.clientAddress === ADDRESSES.client) settleLowerBound(findings, where, wlWhere);
    hops.push(...side.hops);
    appPeer = side.appPeer;
    appXff = side.forwardedFor;
    if (proxied && !acceptsProxyProtocol(wl)) {
      findings.push(finding(FindingSeverity.ERROR, wlWhere, `a DestinationRule makes every caller send PROXY protocol ${proxied} to this workload, but its sidecar has no PROXY listener filter: the header reaches the app as data and breaks the stream`,
        'add a SIDECAR_INBOUND PROXY protocol listener filter for the workload (ProxyProtocolBackend emits both), or remove trafficPolicy.proxyProtocol'));
    }
    sidecarFindings(wl, gw, protocol, side.clientAddress, sideForged.clientAddress, honest.clientAddress, ctx, findings, wlWhere);
    appFindings(wl, appPeer, honest.externalAddress, protocol, findings, wlWhere, true, side.viaProxyProtocol, side.clientAddress);
  }
  hops.push({ hop: 'app', socketPeer: appPeer, xForwardedFor: protocol === 'HTTP' ? appXff : undefined, externalAddress: honest.externalAddress, policies: [] });
  return {
    title: `north-south: ${where}${wl ? ` -> workload ${wl.namespace}/${wl.name}` : ''}`,
    direction: 'north-south',
    protocol,
    clientAddress: ADDRESSES.client,
    hops,
    appSocketPeer: appPeer,
    appHeaderClient: honest.externalAddress,
    findings,
  };
}

function gatewayFindings(gw: TracedGateway, protocol: string, honest: GatewayStep, forged: GatewayStep, findings: Finding[], where: string): void {
  const m = gw.model;
  const chain = gw.trustChain;
  // With a client-header hop the gateway trusts only the hops after it (TrustChain.derive()).
  const appending = chain ? chain.derive().numTrustedProxies : undefined;
  const headerHop = chain?.hops.find(h => h.clientHeader !== undefined);
  if (ADDRESSES.forged.includes(forged.clientAddress)) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: a client that sends X-Forwarded-For chooses remote.ip (got ${forged.clientAddress}); numTrustedProxies ${m.numTrustedProxies} trusts more hops than ${appending ?? 'the'} hops that append to X-Forwarded-For`,
      `set numTrustedProxies to ${appending ?? 'the number of proxies in front that always append X-Forwarded-For'} (TrustChain.derive() counts them)`));
  }
  if (honest.clientAddress === ADDRESSES.client) return;
  const lostTo = honest.addresses.get(honest.clientAddress);
  if (honest.clientAddress === ADDRESSES.node) {
    // An ERROR, unless the objects say the node address was accepted (a construct given externalTrafficPolicy CLUSTER).
    const accepted = gw.nodeAddressAccepted === true;
    findings.push(finding(accepted ? FindingSeverity.WARNING : FindingSeverity.ERROR, where, `client IP lost: externalTrafficPolicy Cluster, so the gateway sees the node IP ${ADDRESSES.node} (kube-proxy SNAT)${accepted ? ', as chosen' : ''}`,
      `set externalTrafficPolicy: Local on Service ${m.serviceName ?? '(the gateway Service)'} and spread gateway replicas over nodes, or carry the client in PROXY protocol or X-Forwarded-For`));
  } else if (headerHop !== undefined && lostTo === headerHop.name && protocol === 'HTTP') {
    findings.push(finding(FindingSeverity.INFO, where, `the gateway resolves ${honest.clientAddress}, the CDN hop "${headerHop.name}", by design: remote.ip at the gateway is the CDN (so a CdnOnlyPolicy can require it) and the client travels in ${headerHop.clientHeader}`,
      `read the client from ${headerHop.clientHeader} on the sidecars (XffTrust.clientHeader) or in the app; match client addresses there with remoteIpBlocks`));
  } else if (lostTo !== undefined && chain?.hops.some(h => h.variableHops)) {
    const lowerBound = finding(FindingSeverity.WARNING, where, `the gateway resolves ${honest.clientAddress} (${lostTo}): with variable CDN paths numTrustedProxies can only be the lower bound`,
      `resolve the client on the sidecars with xff_trusted_cidrs [${chain.derive().trustedCidrs.join(', ')}] plus the gateway and node ranges (XffSidecarFilter TRUSTED_CIDRS)`);
    LOWER_BOUND_FINDINGS.add(lowerBound);
    findings.push(lowerBound);
  } else if (lostTo !== undefined && protocol === 'HTTP') {
    findings.push(finding(FindingSeverity.ERROR, where, `client IP lost: the gateway resolves ${honest.clientAddress}, the address of ${lostTo}; numTrustedProxies ${m.numTrustedProxies} is lower than the hops that append to X-Forwarded-For${appending !== undefined ? ` (${appending})` : ''}`,
      appending !== undefined ? `set numTrustedProxies to ${appending}` : 'count the proxies in front that append X-Forwarded-For and set numTrustedProxies to that number'));
  } else if (lostTo !== undefined) {
    findings.push(finding(FindingSeverity.ERROR, where, `client IP lost on TCP: the gateway sees ${honest.clientAddress} (${lostTo}); X-Forwarded-For does not exist on TCP/TLS passthrough`,
      'have the L4 load balancer pass the source through (externalTrafficPolicy: Local) or send PROXY protocol that the gateway accepts'));
  }
}

interface WorkloadStep {
  readonly hops: HopTrace[];
  readonly clientAddress: string;
  /** True when the sidecar took the client from a PROXY header its caller sent. */
  readonly viaProxyProtocol: boolean;
  /** True when the sidecar answered instead of forwarding (custom header, fail closed). */
  readonly rejected?: boolean;
  readonly forwardedFor?: string;
  readonly appPeer: string;
}

/** True when the workload's sidecar strips PROXY protocol headers on its inbound listener. */
function acceptsProxyProtocol(wl: WorkloadModel): boolean {
  return wl.proxyProtocolOnEveryPort === true || (wl.proxyProtocolPorts ?? []).length > 0;
}

function throughWorkload(wl: WorkloadModel, peer: string, xff: string | undefined, xeea: string | undefined,
  ctx: TraceContext, protocol: string, headers?: { readonly [name: string]: string }, proxySource?: string): WorkloadStep {
  const wlPolicies = policiesFor(ctx, wl.namespace, wl.selector);
  if (wl.role === ProxyRole.AMBIENT && passesWaypoint(wl, peer)) return throughWaypoint(wl, peer, xff, ctx, protocol, wlPolicies);
  if (wl.role === ProxyRole.AMBIENT) {
    return {
      hops: [{
        hop: 'ztunnel',
        socketPeer: peer,
        clientAddress: peer,
        policies: matchPolicies(wlPolicies, peer, undefined),
        note: policyNote(wlPolicies, 'ambient: ztunnel keeps the peer address; remoteIpBlocks is not supported without a waypoint'),
      }],
      clientAddress: peer,
      forwardedFor: xff,
      appPeer: peer,
      viaProxyProtocol: false,
    };
  }
  if (wl.interceptionMode === InterceptionMode.NONE) {
    return { hops: [{ hop: 'sidecar (not intercepting)', socketPeer: peer, policies: [], note: 'interceptionMode NONE: inbound traffic bypasses the sidecar; no policy applies' }], clientAddress: peer, forwardedFor: xff, appPeer: peer, viaProxyProtocol: false };
  }
  // A PROXY listener filter replaces the downstream address with the header's source (Envoy's remote address).
  const viaProxyProtocol = proxySource !== undefined && acceptsProxyProtocol(wl);
  const downstream = viaProxyProtocol ? proxySource : peer;
  const header = wl.xffMode === SidecarXffMode.CUSTOM_HEADER ? wl.clientHeaderName : undefined;
  const result = protocol === 'HTTP'
    ? resolveClientAddress({
      ...sidecarSettings(wl), downstreamAddress: downstream, xForwardedFor: xff, clientHeaderValue: header ? headers?.[header] : undefined,
    })
    : { trustedClientAddress: downstream, forwardedFor: undefined, rejectedWithStatus: undefined };
  const rejected = result.rejectedWithStatus !== undefined ? `; rejected with ${result.rejectedWithStatus}: no valid ${header} header` : '';
  const ports = (wl.xffPorts ?? []).length > 0 ? ` (XFF settings only on ports ${wl.xffPorts!.join(', ')})` : '';
  return {
    hops: [{
      hop: `sidecar ${wl.interceptionMode}`,
      socketPeer: peer,
      ...(viaProxyProtocol ? { proxyProtocolSource: proxySource } : {}),
      xForwardedFor: protocol === 'HTTP' ? xff : undefined,
      externalAddress: protocol === 'HTTP' ? xeea : undefined,
      clientAddress: result.trustedClientAddress,
      policies: matchPolicies(wlPolicies, peer, result.trustedClientAddress),
      note: policyNote(wlPolicies, `XFF mode ${wl.xffMode}${header ? ` (client from ${header}: ${headers?.[header] ?? 'absent'})` : ''}${ports}${rejected}`
        + (viaProxyProtocol ? '; PROXY protocol from the caller (DestinationRule)' : '')),
    }],
    clientAddress: result.trustedClientAddress,
    rejected: result.rejectedWithStatus !== undefined,
    forwardedFor: result.forwardedFor,
    viaProxyProtocol,
    // TPROXY's original_src uses the downstream address, which a PROXY listener filter has restored.
    appPeer: wl.interceptionMode === InterceptionMode.TPROXY ? downstream : ADDRESSES.redirectPeer,
  };
}

interface SidecarSettings {
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops?: number;
  readonly xffTrustedCidrs?: string[];
  readonly clientHeaderName?: string;
  readonly rejectStatus?: number;
}

/**
 * True when the request passes the workload's waypoint: mesh traffic always does, traffic from an ingress gateway
 * only with istio.io/ingress-use-waypoint (north-south traces reach the workload from the gateway pod).
 */
function passesWaypoint(wl: WorkloadModel, peer: string): boolean {
  return wl.waypoint !== undefined && (peer !== ADDRESSES.gatewayPod || wl.ingressUseWaypoint === true);
}

/**
 * Waypoint, then ztunnel: the waypoint sees the caller as source.ip (ztunnel restores it) and takes remote.ip from the
 * rightmost X-Forwarded-For entry (use_remote_address false, no trusted hops); it appends nothing. ztunnel at the
 * destination sees the waypoint pod, and so does the app.
 */
function throughWaypoint(wl: WorkloadModel, peer: string, xff: string | undefined, ctx: TraceContext, protocol: string,
  ztunnelPolicies: PolicyModel[]): WorkloadStep {
  const entries = protocol === 'HTTP' && xff ? xff.split(',').map(e => e.trim()).filter(e => e !== '') : [];
  const remote = entries.length > 0 ? entries[entries.length - 1] : peer;
  const waypointPolicies = ctx.waypointPolicies.get(wl.waypoint!) ?? [];
  return {
    hops: [{
      hop: `waypoint ${wl.waypoint}`,
      socketPeer: peer,
      clientAddress: remote,
      xForwardedFor: protocol === 'HTTP' ? xff : undefined,
      policies: matchPolicies(waypointPolicies, peer, remote),
      note: policyNote(waypointPolicies, 'waypoint: source.ip is the caller, remote.ip the rightmost X-Forwarded-For entry; it appends no X-Forwarded-For'),
    }, {
      hop: 'ztunnel',
      socketPeer: ADDRESSES.waypointPod,
      clientAddress: ADDRESSES.waypointPod,
      policies: matchPolicies(ztunnelPolicies, ADDRESSES.waypointPod, undefined),
      note: policyNote(ztunnelPolicies, 'ambient behind a waypoint: ztunnel sees the waypoint pod as the source'),
    }],
    clientAddress: remote,
    forwardedFor: xff,
    appPeer: ADDRESSES.waypointPod,
    viaProxyProtocol: false,
  };
}

function sidecarSettings(wl: WorkloadModel): SidecarSettings {
  switch (wl.xffMode) {
    case SidecarXffMode.CUSTOM_HEADER:
      return { useRemoteAddress: false, clientHeaderName: wl.clientHeaderName, rejectStatus: wl.clientHeaderRejectStatus };
    case SidecarXffMode.USE_REMOTE_ADDRESS: return { useRemoteAddress: true, xffNumTrustedHops: wl.xffTrustedHops ?? 0 };
    case SidecarXffMode.TRUSTED_HOPS: return { useRemoteAddress: false, xffNumTrustedHops: wl.xffTrustedHops ?? 0 };
    case SidecarXffMode.TRUSTED_CIDRS: return { useRemoteAddress: false, xffTrustedCidrs: wl.xffTrustedCidrs };
    default: return { useRemoteAddress: false };
  }
}

/** The gateways' "numTrustedProxies can only be the lower bound" warnings (variable CDN paths), marked as created. */
const LOWER_BOUND_FINDINGS = new WeakSet<Finding>();

/** The gateway's lower-bound warning is settled when the sidecar behind it finds the client by trusted CIDRs. */
function settleLowerBound(findings: Finding[], gatewayWhere: string, workloadWhere: string): void {
  const i = findings.findIndex(f => f.where === gatewayWhere && LOWER_BOUND_FINDINGS.has(f));
  if (i < 0) return;
  findings[i] = finding(FindingSeverity.INFO, gatewayWhere, `${findings[i].message}; ${workloadWhere} resolves the client with trusted CIDRs`, findings[i].fix);
}

/**
 * A client that skips the CDN (connects to the hop after it, or to the gateway) and forges X-Forwarded-For and the
 * CDN's client header: it must be denied at the gateway, or resolve to its real address, or be rejected.
 */
function bypassFindings(gw: TracedGateway, wl: WorkloadModel, ctx: TraceContext, honest: GatewayStep,
  findings: Finding[], where: string): void {
  const chain = gw.trustChain;
  const declared = chain ? chain.hops.findIndex(h => h.clientHeader !== undefined) : -1;
  const headerHop = declared >= 0 || !chain ? declared : chain.hops.findIndex(h => h.kind === 'cdn');
  const header = wl.xffMode === SidecarXffMode.CUSTOM_HEADER ? wl.clientHeaderName : chain?.hops[declared]?.clientHeader;
  const byCidrs = wl.xffMode === SidecarXffMode.TRUSTED_CIDRS && headerHop >= 0;
  if ((header === undefined && !byCidrs) || wl.role === ProxyRole.AMBIENT || wl.interceptionMode === InterceptionMode.NONE) return;
  const forgedHeaders = header ? { [header]: ADDRESSES.forged[0] } : {};
  const forgery = header ? `forges ${header}: ${ADDRESSES.forged[0]}` : `forges X-Forwarded-For: ${ADDRESSES.forged[1]}`;
  const entry: Entry = { peer: ADDRESSES.bypassing, xff: [ADDRESSES.forged[1]], headers: forgedHeaders, firstHop: headerHop + 1 };
  const bypass = throughGateway(gw, 'HTTP', ctx, [], entry);
  const side = throughWorkload(wl, ADDRESSES.gatewayPod, bypass.forwardedFor, bypass.externalAddress, ctx, 'HTTP', bypass.headers);
  const honestSide = throughWorkload(wl, ADDRESSES.gatewayPod, honest.forwardedFor, honest.externalAddress, ctx, 'HTTP', honest.headers);
  const skipped = headerHop >= 0 ? `skips ${chain!.hops[headerHop].name}` : 'reaches the gateway without the CDN';
  if (bypass.denied) {
    findings.push(finding(FindingSeverity.INFO, where, `a client at ${ADDRESSES.bypassing} that ${skipped} and ${forgery} is denied at the gateway`, 'none needed'));
  } else if (ADDRESSES.forged.includes(side.clientAddress) && wl.onlyReachableThroughCdn === true) {
    // A fact outside the objects (a private origin, a load balancer that admits only the CDN), declared by the user.
    findings.push(finding(FindingSeverity.WARNING, where, `a client at ${ADDRESSES.bypassing} that ${skipped} and ${forgery} would get ${side.clientAddress} as its address at the sidecar; nothing in the objects requires the CDN, only the acknowledgement that the gateway is reachable only through it (onlyReachableThroughCdn)`,
      'make it so at the load balancer or with a CdnOnlyPolicy (XffTrust.clientHeader enforcedBy), and keep the acknowledgement true'));
  } else if (ADDRESSES.forged.includes(side.clientAddress)) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: a client at ${ADDRESSES.bypassing} that ${skipped} and ${forgery} gets ${side.clientAddress} as its address at the sidecar; nothing at the gateway requires the CDN`,
      'deny requests whose peer is not the CDN at the gateway (CdnOnlyPolicy), or admit only the CDN at the load balancer'));
  } else {
    const outcome = side.rejected ? 'is rejected by the sidecar' : `resolves to ${side.clientAddress} at the sidecar`;
    findings.push(finding(FindingSeverity.INFO, where, `a client at ${ADDRESSES.bypassing} that ${skipped} and ${forgery} ${outcome}`, 'none needed'));
  }
  if (wl.xffMode === SidecarXffMode.CUSTOM_HEADER && honestSide.clientAddress !== ADDRESSES.client && !honestSide.rejected) {
    findings.push(finding(FindingSeverity.WARNING, where, `the sidecar reads the client from ${header}, but no hop in front is declared to set it (got ${honestSide.clientAddress})`,
      `declare clientHeader "${header}" on the CDN hop of the gateway's trust chain`));
  }
}

function sidecarFindings(wl: WorkloadModel, gw: TracedGateway, protocol: string, honest: string, forged: string, gatewayClient: string,
  ctx: TraceContext, findings: Finding[], where: string): void {
  const remotePolicies = policiesFor(ctx, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (wl.role === ProxyRole.AMBIENT) {
    if (remotePolicies.length > 0) {
      findings.push(finding(FindingSeverity.ERROR, where, `remoteIpBlocks in ${names(remotePolicies)} is not supported by ztunnel: ALLOW rules never match, DENY rules do nothing`,
        'deploy a waypoint and attach the policy with targetRefs, or enforce remoteIpBlocks at the ingress gateway'));
    }
    waypointFindings(wl, ctx, findings, where);
    return;
  }
  if (wl.interceptionMode === InterceptionMode.NONE) return;
  const external = policiesFor(ctx, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.IP_BLOCKS && listsOnlyExternalRanges(p));
  if (external.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where, `ipBlocks in ${names(external)} list only external ranges, but behind gateway ${gw.model.namespace}/${gw.model.name} the sidecar's peer is the gateway pod (${ADDRESSES.gatewayPod}): the rule never matches a client that comes through the gateway`,
      'match those clients with remoteIpBlocks (the client the gateway resolved) here or at the gateway; ipBlocks on a sidecar can only tell in-mesh callers apart'));
  }
  if (protocol !== 'HTTP') return;
  if (ADDRESSES.forged.includes(forged)) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: the sidecar trusts more X-Forwarded-For entries than the gateway verified; a client chooses remote.ip (got ${forged})`,
      `set the sidecar's xff_num_trusted_hops to the gateway's numTrustedProxies (${gw.model.numTrustedProxies})`));
  } else if (honest !== gatewayClient && honest !== ADDRESSES.client && remotePolicies.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where, `remoteIpBlocks in ${names(remotePolicies)} match ${honest} on the sidecar, not the client the gateway resolved (${gatewayClient}): the sidecar trusts only the rightmost X-Forwarded-For entry`,
      `add an XffSidecarFilter with xff_num_trusted_hops ${gw.model.numTrustedProxies} (the gateway's numTrustedProxies), or enforce remoteIpBlocks at the gateway`));
  }
}

/** Behind a waypoint: what its remoteIpBlocks policies match, and whether ingress traffic passes it at all. */
/** Behind a waypoint without ingress-use-waypoint: ingress traffic skips it (what it matches is the waypoint's finding). */
function waypointFindings(wl: WorkloadModel, ctx: TraceContext, findings: Finding[], where: string): void {
  if (wl.waypoint === undefined || wl.ingressUseWaypoint) return;
  const remote = (ctx.waypointPolicies.get(wl.waypoint) ?? []).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (remote.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where, `traffic from the ingress gateway skips waypoint ${wl.waypoint} (no istio.io/ingress-use-waypoint), so ${names(remote)} never sees it`,
      'label the Service or namespace istio.io/ingress-use-waypoint: "true", or enforce the policy at the gateway'));
  }
}

function appFindings(wl: WorkloadModel, appPeer: string, xeea: string | undefined, protocol: string,
  findings: Finding[], where: string, behindGateway: boolean, viaProxyProtocol = false, sidecarClient?: string): void {
  const read = (fallback: string) => readClientIn(wl, xeea, sidecarClient) ?? fallback;
  if (wl.role === ProxyRole.AMBIENT) {
    if (appPeer === ADDRESSES.waypointPod) {
      findings.push(finding(FindingSeverity.INFO, where, `ambient: the app sees the waypoint pod ${appPeer} for every caller, and the waypoint adds no X-Forwarded-For entry`,
        behindGateway ? 'read X-Envoy-External-Address or X-Forwarded-For (written by the gateway) in the app' : 'match callers on the waypoint (source.ip there is the caller)'));
    } else if (behindGateway) {
      findings.push(finding(FindingSeverity.INFO, where, `ambient: the app sees the gateway pod ${appPeer}`, 'read X-Envoy-External-Address or X-Forwarded-For in the app'));
    }
    return;
  }
  if (appPeer === ADDRESSES.redirectPeer) {
    findings.push(finding(FindingSeverity.WARNING, where, `client IP lost at the app socket: interceptionMode REDIRECT makes the app see ${ADDRESSES.redirectPeer}`,
      behindGateway && protocol === 'HTTP'
        ? `${read(readHeader(xeea))} in the app; TPROXY would only show the gateway pod IP`
        : 'set sidecar.istio.io/interceptionMode: TPROXY on the pod template (TproxyWorkload) so the app sees the peer pod IP'));
  } else if (behindGateway && viaProxyProtocol) {
    if (appPeer !== ADDRESSES.client) {
      findings.push(finding(FindingSeverity.INFO, where, `the sidecar restores the client from PROXY protocol, and the app socket sees ${appPeer}`, 'read the client on the sidecar (remoteIpBlocks) or use TPROXY'));
    }
  } else if (behindGateway) {
    findings.push(finding(FindingSeverity.INFO, where, `the app socket sees the gateway pod ${appPeer}, not the client`,
      protocol === 'HTTP' ? read(readHeader(xeea)) : 'use PROXY protocol to the backend (DestinationRule trafficPolicy.proxyProtocol) if the app must see the client on TCP'));
  }
}

/**
 * Where the app finds the client when the sidecar, not the gateway, resolved it: X-Envoy-External-Address then
 * carries what the gateway resolved (the CDN edge), so the app reads the CDN's header, or walks X-Forwarded-For.
 */
function readClientIn(wl: WorkloadModel, xeea: string | undefined, sidecarClient: string | undefined): string | undefined {
  if (sidecarClient !== ADDRESSES.client || xeea === ADDRESSES.client) return undefined;
  if (wl.xffMode === SidecarXffMode.CUSTOM_HEADER) {
    return `read ${wl.clientHeaderName} (${sidecarClient}; the sidecar checked it is an address, and only the CDN can have set it); X-Envoy-External-Address carries ${xeea ?? 'nothing'}, what the gateway resolved`;
  }
  if (wl.xffMode === SidecarXffMode.TRUSTED_CIDRS) {
    return `read X-Forwarded-For from the right, skipping the trusted ranges [${(wl.xffTrustedCidrs ?? []).join(', ')}] (${sidecarClient}), as the sidecar did; X-Envoy-External-Address carries ${xeea ?? 'nothing'}, what the gateway resolved`;
  }
  return undefined;
}

function readHeader(xeea: string | undefined): string {
  if (xeea === ADDRESSES.client) return `read X-Envoy-External-Address (${xeea})`;
  return `read X-Envoy-External-Address once the gateway resolves the client (it carries ${xeea ?? 'nothing'} now)`;
}

function traceEastWest(wl: WorkloadModel, ctx: TraceContext): PathTrace {
  const where = `workload ${wl.namespace}/${wl.name}`;
  const peer = ADDRESSES.meshClientPod;
  // A DestinationRule with proxyProtocol makes every mesh caller send PROXY with its own address.
  const proxied = ctx.proxyProtocolTo.has(`${wl.namespace}/${wl.name}`) ? peer : undefined;
  const honest = throughWorkload(wl, peer, undefined, undefined, ctx, 'HTTP', undefined, proxied);
  const header = wl.xffMode === SidecarXffMode.CUSTOM_HEADER ? wl.clientHeaderName : undefined;
  const forgedHeaders = header ? { [header]: ADDRESSES.forged[3] } : undefined;
  const forged = throughWorkload(wl, peer, ADDRESSES.forged.join(','), undefined, ctx, 'HTTP', forgedHeaders, proxied);
  const findings: Finding[] = [];
  const remotePolicies = policiesFor(ctx, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (ADDRESSES.forged.includes(forged.clientAddress) && remotePolicies.length > 0 && wl.role !== ProxyRole.AMBIENT) {
    // Through the gateway the policy matches the client the gateway resolved; only direct in-mesh callers can forge it.
    findings.push(finding(FindingSeverity.WARNING, where, `forgeable from inside the mesh: remoteIpBlocks in ${names(remotePolicies)} match the client the gateway resolved, but a pod that calls the workload directly chooses remote.ip by sending ${header ?? 'X-Forwarded-For'} (got ${forged.clientAddress})`,
      'match in-mesh callers with ipBlocks, principals or namespaces too (or admit only the gateway to the workload); remoteIpBlocks on a sidecar is only meaningful for requests through the gateway'));
  }
  const waypointRemote = (wl.waypoint !== undefined ? ctx.waypointPolicies.get(wl.waypoint) ?? [] : [])
    .filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (ADDRESSES.forged.includes(forged.clientAddress) && waypointRemote.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where, `forgeable from inside the mesh: remoteIpBlocks in ${names(waypointRemote)} on waypoint ${wl.waypoint} match the rightmost X-Forwarded-For entry, which a pod that calls through the waypoint writes itself (got ${forged.clientAddress})`,
      'match in-mesh callers on the waypoint with ipBlocks, principals or namespaces too; remoteIpBlocks there is only meaningful for traffic from the gateway'));
  }
  appFindings(wl, honest.appPeer, undefined, 'HTTP', findings, where, false);
  return {
    title: `east-west: pod ${peer} -> workload ${wl.namespace}/${wl.name}`,
    direction: 'east-west',
    protocol: 'HTTP',
    clientAddress: peer,
    hops: [{ hop: `client pod ${peer}`, policies: [] }, ...honest.hops, { hop: 'app', socketPeer: honest.appPeer, xForwardedFor: honest.forwardedFor, policies: [] }],
    appSocketPeer: honest.appPeer,
    findings,
  };
}

/** The policies that apply to pods with `labels` in `namespace` (its own and the mesh's root namespaces). */
function policiesFor(ctx: TraceContext, namespace: string, labels: { [key: string]: string }): PolicyModel[] {
  return ctx.policyIndex.matching([namespace, ...ctx.rootNamespaces], labels)
    .filter(p => policyReaches(p.namespace, (p.targetRefs ?? []).length > 0, namespace, ctx.rootNamespaces));
}

const PARSED_CIDRS = new WeakMap<PolicyModel, Cidr[]>();

function cidrsOf(p: PolicyModel): Cidr[] {
  let parsed = PARSED_CIDRS.get(p);
  if (!parsed) {
    parsed = p.cidrs.map(c => parseCidr(c));
    PARSED_CIDRS.set(p, parsed);
  }
  return parsed;
}

function policyNote(policies: PolicyModel[], note: string | undefined): string | undefined {
  if (policies.length <= MAX_POLICIES_PER_HOP) return note;
  const more = `${policies.length - MAX_POLICIES_PER_HOP} more policies apply here and are not listed`;
  return note ? `${note}; ${more}` : more;
}

function matchPolicies(policies: PolicyModel[], directPeer: string, remote: string | undefined): PolicyMatch[] {
  return policies.slice(0, MAX_POLICIES_PER_HOP).map(p => {
    const address = p.field === ClientIpField.IP_BLOCKS ? directPeer : remote ?? directPeer;
    const inside = cidrsOf(p).some(c => addressInCidr(address, c));
    const field = p.field === ClientIpField.IP_BLOCKS ? (p.negated ? 'notIpBlocks' : 'ipBlocks') : (p.negated ? 'notRemoteIpBlocks' : 'remoteIpBlocks');
    return { policy: `${p.namespace}/${p.name}`, action: p.action, field, cidrs: p.cidrs, address, matches: p.negated ? !inside : inside };
  });
}

function names(policies: PolicyModel[]): string {
  return [...new Set(policies.map(p => `${p.namespace}/${p.name}`))].join(', ');
}
