import * as ipaddr from 'ipaddr.js';
import { Finding, FindingSeverity, HopTrace, PathTrace, PolicyMatch } from './explain-report';
import { finding, MAX_ASSUMED_PROXIES, ParsedGateway, ParsedManifests } from './manifest-parser';
import { SelectorIndex } from './selector-index';
import { resolveClientAddress } from './xff-rule';
import {
  ClientIpField, ExternalTrafficPolicy, InterceptionMode, PolicyModel, ProxyProtocolMode, ProxyRole, SidecarXffMode, WorkloadModel,
} from '../model/model';
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
  node: '10.0.0.4',
  gatewayPod: '10.244.0.5',
  meshClientPod: '10.244.2.9',
  redirectPeer: '127.0.0.6',
};

const ROOT_NAMESPACE = 'istio-system';
const TCP_PROTOCOLS = ['TCP', 'TLS', 'MONGO'];
/** Workloads traced behind a gateway that no VirtualService binds: a sample, so that output stays linear. */
export const MAX_UNROUTED_WORKLOADS = 16;
/** Policy matches listed per hop: the rest are counted in the hop's note, so that output stays linear. */
export const MAX_POLICIES_PER_HOP = 32;

interface Wire {
  /** L3 source of the packets. */
  readonly peer: string;
  /** Source address carried by a PROXY header. */
  readonly proxySource?: string;
  readonly xff: string[];
}

interface FrontResult {
  readonly hops: HopTrace[];
  readonly wire: Wire;
  readonly addresses: Map<string, string>;
}

export function tracePaths(parsed: ParsedManifests): PathTrace[] {
  const paths: PathTrace[] = [];
  const byName = new Map<string, WorkloadModel[]>();
  const position = new Map<WorkloadModel, number>(parsed.workloads.map((w, i) => [w, i]));
  for (const w of parsed.workloads) {
    const key = `${w.namespace}/${w.name}`;
    const list = byName.get(key);
    if (list) list.push(w);
    else byName.set(key, [w]);
  }
  for (const gw of parsed.gateways) {
    const protocols = protocolsOf(gw);
    const routed = parsed.routes.get(`${gw.model.namespace}/${gw.model.name}`);
    const candidates = routed
      ? [...routed].flatMap(key => byName.get(key) ?? []).sort((a, b) => position.get(a)! - position.get(b)!)
      : unroutedSample(gw, parsed);
    const behind = candidates.length > 0 ? candidates : [undefined];
    for (const protocol of protocols) {
      for (const wl of behind) paths.push(traceNorthSouth(gw, wl, protocol, parsed.policies));
    }
  }
  for (const wl of parsed.workloads) paths.push(traceEastWest(wl, parsed.policies));
  return paths;
}

/**
 * Without a VirtualService, any workload may be behind the gateway; tracing every gateway to every workload grows
 * with their product, so explain traces the first few and says so.
 */
function unroutedSample(gw: ParsedGateway, parsed: ParsedManifests): WorkloadModel[] {
  if (parsed.workloads.length <= MAX_UNROUTED_WORKLOADS) return parsed.workloads;
  parsed.findings.push(finding(FindingSeverity.INFO, `gateway ${gw.model.namespace}/${gw.model.name}`,
    `no VirtualService binds this gateway: traced to the first ${MAX_UNROUTED_WORKLOADS} of ${parsed.workloads.length} workloads only`,
    'give explain the VirtualServices that bind the gateway, so that it traces the workloads they route to'));
  return parsed.workloads.slice(0, MAX_UNROUTED_WORKLOADS);
}

function protocolsOf(gw: ParsedGateway): string[] {
  const servers = gw.model.servers;
  if (servers.length === 0) return ['HTTP'];
  const tcp = servers.some(s => TCP_PROTOCOLS.includes(s.protocol) || (s.protocol === 'HTTPS' && s.tlsMode === 'PASSTHROUGH'));
  const http = servers.some(s => !TCP_PROTOCOLS.includes(s.protocol) && !(s.protocol === 'HTTPS' && s.tlsMode === 'PASSTHROUGH'));
  return [...(http ? ['HTTP'] : []), ...(tcp ? ['TCP'] : [])];
}

/** The hops in front: the declared chain, else numTrustedProxies assumed L7 proxies plus the Service's load balancer. */
function frontChain(gw: ParsedGateway, notes: Finding[], where: string): TrustChain {
  if (gw.trustChain) return gw.trustChain;
  const hops: TrustHop[] = [];
  // Above the cap the parser reported the count as impossible; drawing a billion hops would only exhaust memory.
  const assumed = gw.model.numTrustedProxies <= MAX_ASSUMED_PROXIES ? gw.model.numTrustedProxies : 0;
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

function nextAddress(address: string): string {
  const bytes = ipaddr.parse(address).toByteArray();
  bytes[bytes.length - 1] += 1;
  return ipaddr.fromByteArray(bytes).toString();
}

function walkFront(chain: TrustChain, clientXff: string[]): FrontResult {
  const hops: HopTrace[] = [];
  const addresses = new Map<string, string>();
  let wire: Wire = { peer: ADDRESSES.client, xff: clientXff };
  chain.hops.forEach((hop, i) => {
    const address = hopAddress(hop, i);
    addresses.set(address, hop.name);
    hops.push({ hop: `${hop.kind} ${hop.name}`, socketPeer: wire.peer, xForwardedFor: join(wire.xff), policies: [] });
    if (hop.appendsXff && hop.variableHops) {
      // Trace the longer of the paths: an edge and one inner tier, each appending.
      const inner = nextAddress(address);
      addresses.set(inner, `${hop.name} (inner tier)`);
      wire = { peer: inner, xff: [...wire.xff, wire.peer, address] };
    } else if (hop.appendsXff) {
      wire = { peer: address, xff: [...wire.xff, wire.peer] };
    } else if (hop.sendsProxyProtocol) {
      wire = { peer: address, proxySource: wire.peer, xff: wire.xff };
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
  readonly forwardedFor?: string;
  readonly externalAddress?: string;
  readonly findings: Finding[];
  readonly addresses: Map<string, string>;
  readonly fellBack: boolean;
}

function throughGateway(gw: ParsedGateway, protocol: string, policies: PolicyModel[], clientXff: string[]): GatewayStep {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const findings: Finding[] = [];
  const chain = frontChain(gw, findings, where);
  const front = walkFront(chain, clientXff);
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
  const gwPolicies = policiesFor(policies, m.namespace, m.selector);
  let result: { trustedClientAddress: string; forwardedFor?: string; externalAddress?: string; fellBack: boolean };
  if (protocol === 'HTTP') {
    result = resolveClientAddress({
      useRemoteAddress: true, xffNumTrustedHops: m.numTrustedProxies, downstreamAddress: downstream, xForwardedFor: join(wire.xff),
    });
  } else {
    result = { trustedClientAddress: downstream, fellBack: false };
  }
  hops.push({
    hop: where,
    socketPeer: wire.peer,
    proxyProtocolSource: sent && accepts ? wire.proxySource : undefined,
    xForwardedFor: protocol === 'HTTP' ? join(wire.xff) : undefined,
    clientAddress: result.trustedClientAddress,
    policies: matchPolicies(gwPolicies, wire.peer, result.trustedClientAddress),
    note: policyNote(gwPolicies, protocol === 'TCP' ? 'TCP/TLS passthrough: no headers; only the packet source or PROXY protocol carry the client' : undefined),
  });
  const addresses = new Map(front.addresses);
  addresses.set(ADDRESSES.node, 'node');
  return {
    hops,
    findings,
    addresses,
    fellBack: result.fellBack,
    clientAddress: result.trustedClientAddress,
    forwardedFor: result.forwardedFor,
    externalAddress: result.externalAddress,
  };
}

function traceNorthSouth(gw: ParsedGateway, wl: WorkloadModel | undefined, protocol: string, policies: PolicyModel[]): PathTrace {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const honest = throughGateway(gw, protocol, policies, []);
  const forged = throughGateway(gw, protocol, policies, ADDRESSES.forged);
  const findings = [...honest.findings];
  gatewayFindings(gw, protocol, honest, forged, findings, where);
  const hops: HopTrace[] = [{ hop: `client ${ADDRESSES.client}`, policies: [] }, ...honest.hops];
  let appPeer = ADDRESSES.gatewayPod;
  let appXff = honest.forwardedFor;
  if (wl) {
    const wlWhere = `workload ${wl.namespace}/${wl.name}`;
    const side = throughWorkload(wl, ADDRESSES.gatewayPod, honest.forwardedFor, honest.externalAddress, policies, protocol);
    const sideForged = throughWorkload(wl, ADDRESSES.gatewayPod, forged.forwardedFor, forged.externalAddress, policies, protocol);
    hops.push(...side.hops);
    appPeer = side.appPeer;
    appXff = side.forwardedFor;
    sidecarFindings(wl, gw, protocol, side.clientAddress, sideForged.clientAddress, honest.clientAddress, policies, findings, wlWhere);
    appFindings(wl, appPeer, honest.externalAddress, protocol, findings, wlWhere, true);
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

function gatewayFindings(gw: ParsedGateway, protocol: string, honest: GatewayStep, forged: GatewayStep, findings: Finding[], where: string): void {
  const m = gw.model;
  const chain = gw.trustChain;
  const appending = chain ? chain.hops.filter(h => h.appendsXff).length : undefined;
  if (ADDRESSES.forged.includes(forged.clientAddress)) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: a client that sends X-Forwarded-For chooses remote.ip (got ${forged.clientAddress}); numTrustedProxies ${m.numTrustedProxies} trusts more hops than ${appending ?? 'the'} hops that append to X-Forwarded-For`,
      `set numTrustedProxies to ${appending ?? 'the number of proxies in front that always append X-Forwarded-For'} (TrustChain.derive() counts them)`));
  }
  if (honest.clientAddress === ADDRESSES.client) return;
  const lostTo = honest.addresses.get(honest.clientAddress);
  if (honest.clientAddress === ADDRESSES.node) {
    findings.push(finding(FindingSeverity.ERROR, where, `client IP lost: externalTrafficPolicy Cluster, so the gateway sees the node IP ${ADDRESSES.node} (kube-proxy SNAT)`,
      `set externalTrafficPolicy: Local on Service ${m.serviceName ?? '(the gateway Service)'} and spread gateway replicas over nodes, or carry the client in PROXY protocol or X-Forwarded-For`));
  } else if (lostTo !== undefined && chain?.hops.some(h => h.variableHops)) {
    findings.push(finding(FindingSeverity.WARNING, where, `the gateway resolves ${honest.clientAddress} (${lostTo}): with variable CDN paths numTrustedProxies can only be the lower bound`,
      `resolve the client on the sidecars with xff_trusted_cidrs [${chain.derive().trustedCidrs.join(', ')}] plus the gateway and node ranges (XffSidecarFilter TRUSTED_CIDRS)`));
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
  readonly forwardedFor?: string;
  readonly appPeer: string;
}

function throughWorkload(wl: WorkloadModel, peer: string, xff: string | undefined, xeea: string | undefined,
  policies: PolicyModel[], protocol: string): WorkloadStep {
  const wlPolicies = policiesFor(policies, wl.namespace, wl.selector);
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
    };
  }
  if (wl.interceptionMode === InterceptionMode.NONE) {
    return { hops: [{ hop: 'sidecar (not intercepting)', socketPeer: peer, policies: [], note: 'interceptionMode NONE: inbound traffic bypasses the sidecar; no policy applies' }], clientAddress: peer, forwardedFor: xff, appPeer: peer };
  }
  const result = protocol === 'HTTP' ? resolveClientAddress({ ...sidecarSettings(wl), downstreamAddress: peer, xForwardedFor: xff }) : { trustedClientAddress: peer, forwardedFor: undefined };
  const ports = (wl.xffPorts ?? []).length > 0 ? ` (XFF settings only on ports ${wl.xffPorts!.join(', ')})` : '';
  return {
    hops: [{
      hop: `sidecar ${wl.interceptionMode}`,
      socketPeer: peer,
      xForwardedFor: protocol === 'HTTP' ? xff : undefined,
      externalAddress: protocol === 'HTTP' ? xeea : undefined,
      clientAddress: result.trustedClientAddress,
      policies: matchPolicies(wlPolicies, peer, result.trustedClientAddress),
      note: policyNote(wlPolicies, `XFF mode ${wl.xffMode}${ports}`),
    }],
    clientAddress: result.trustedClientAddress,
    forwardedFor: result.forwardedFor,
    appPeer: wl.interceptionMode === InterceptionMode.TPROXY ? peer : ADDRESSES.redirectPeer,
  };
}

function sidecarSettings(wl: WorkloadModel): { useRemoteAddress: boolean; xffNumTrustedHops?: number; xffTrustedCidrs?: string[] } {
  switch (wl.xffMode) {
    case SidecarXffMode.USE_REMOTE_ADDRESS: return { useRemoteAddress: true, xffNumTrustedHops: wl.xffTrustedHops ?? 0 };
    case SidecarXffMode.TRUSTED_HOPS: return { useRemoteAddress: false, xffNumTrustedHops: wl.xffTrustedHops ?? 0 };
    case SidecarXffMode.TRUSTED_CIDRS: return { useRemoteAddress: false, xffTrustedCidrs: wl.xffTrustedCidrs };
    default: return { useRemoteAddress: false };
  }
}

function sidecarFindings(wl: WorkloadModel, gw: ParsedGateway, protocol: string, honest: string, forged: string, gatewayClient: string,
  policies: PolicyModel[], findings: Finding[], where: string): void {
  const remotePolicies = policiesFor(policies, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (wl.role === ProxyRole.AMBIENT) {
    if (remotePolicies.length > 0) {
      findings.push(finding(FindingSeverity.ERROR, where, `remoteIpBlocks in ${names(remotePolicies)} is not supported by ztunnel: ALLOW rules never match, DENY rules do nothing`,
        'deploy a waypoint and attach the policy with targetRefs, or enforce remoteIpBlocks at the ingress gateway'));
    }
    return;
  }
  if (protocol !== 'HTTP' || wl.interceptionMode === InterceptionMode.NONE) return;
  if (ADDRESSES.forged.includes(forged)) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: the sidecar trusts more X-Forwarded-For entries than the gateway verified; a client chooses remote.ip (got ${forged})`,
      `set the sidecar's xff_num_trusted_hops to the gateway's numTrustedProxies (${gw.model.numTrustedProxies})`));
  } else if (honest !== gatewayClient && remotePolicies.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where, `remoteIpBlocks in ${names(remotePolicies)} match ${honest} on the sidecar, not the client the gateway resolved (${gatewayClient}): the sidecar trusts only the rightmost X-Forwarded-For entry`,
      `add an XffSidecarFilter with xff_num_trusted_hops ${gw.model.numTrustedProxies} (the gateway's numTrustedProxies), or enforce remoteIpBlocks at the gateway`));
  }
}

function appFindings(wl: WorkloadModel, appPeer: string, xeea: string | undefined, protocol: string,
  findings: Finding[], where: string, behindGateway: boolean): void {
  if (wl.role === ProxyRole.AMBIENT) {
    if (behindGateway) {
      findings.push(finding(FindingSeverity.INFO, where, `ambient: the app sees the gateway pod ${appPeer}`, 'read X-Envoy-External-Address or X-Forwarded-For in the app'));
    }
    return;
  }
  if (appPeer === ADDRESSES.redirectPeer) {
    findings.push(finding(FindingSeverity.WARNING, where, `client IP lost at the app socket: interceptionMode REDIRECT makes the app see ${ADDRESSES.redirectPeer}`,
      behindGateway && protocol === 'HTTP'
        ? `${readHeader(xeea)} in the app; TPROXY would only show the gateway pod IP`
        : 'set sidecar.istio.io/interceptionMode: TPROXY on the pod template (TproxyWorkload) so the app sees the peer pod IP'));
  } else if (behindGateway) {
    findings.push(finding(FindingSeverity.INFO, where, `the app socket sees the gateway pod ${appPeer}, not the client`,
      protocol === 'HTTP' ? readHeader(xeea) : 'use PROXY protocol to the backend (DestinationRule trafficPolicy.proxyProtocol) if the app must see the client on TCP'));
  }
}

function readHeader(xeea: string | undefined): string {
  if (xeea === ADDRESSES.client) return `read X-Envoy-External-Address (${xeea})`;
  return `read X-Envoy-External-Address once the gateway resolves the client (it carries ${xeea ?? 'nothing'} now)`;
}

function traceEastWest(wl: WorkloadModel, policies: PolicyModel[]): PathTrace {
  const where = `workload ${wl.namespace}/${wl.name}`;
  const peer = ADDRESSES.meshClientPod;
  const honest = throughWorkload(wl, peer, undefined, undefined, policies, 'HTTP');
  const forged = throughWorkload(wl, peer, ADDRESSES.forged.join(','), undefined, policies, 'HTTP');
  const findings: Finding[] = [];
  const remotePolicies = policiesFor(policies, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (ADDRESSES.forged.includes(forged.clientAddress) && remotePolicies.length > 0 && wl.role !== ProxyRole.AMBIENT) {
    findings.push(finding(FindingSeverity.ERROR, where, `spoofable: an in-mesh caller chooses remote.ip by sending X-Forwarded-For (got ${forged.clientAddress}), so remoteIpBlocks in ${names(remotePolicies)} can be bypassed from inside the mesh`,
      'match in-mesh callers with ipBlocks, principals or namespaces; remoteIpBlocks on a sidecar is only meaningful behind a gateway'));
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

const POLICY_INDEXES = new WeakMap<PolicyModel[], SelectorIndex<PolicyModel>>();

/** The policies that apply to pods with `labels` in `namespace`, found through an index built once per policy list. */
function policiesFor(policies: PolicyModel[], namespace: string, labels: { [key: string]: string }): PolicyModel[] {
  let index = POLICY_INDEXES.get(policies);
  if (!index) {
    index = new SelectorIndex<PolicyModel>();
    for (const p of policies) index.add(p.namespace, p.selector, p);
    POLICY_INDEXES.set(policies, index);
  }
  return index.matching([namespace, ROOT_NAMESPACE], labels);
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
