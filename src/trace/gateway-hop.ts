import { ADDRESSES, deniedBy, join, matchPolicies, policiesFor, policyNote, TraceContext } from './context';
import { HopTrace } from './trace-types';
import { resolveClientAddress } from './xff-rule';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { ExternalTrafficPolicy, ProxyProtocolMode } from '../model/model';
import { MAX_ASSUMED_PROXIES, TracedGateway } from '../model/trace-model';
import { TrustChain, TrustHop } from '../model/trust-chain';
import { addressInCidr, parseCidr } from '../net/cidr';
import { ipaddr } from '../net/ip-address';
import { entryOf } from '../util/keys';

/*
 * The hops in front of a gateway and the gateway itself: the chain the request takes, what the gateway resolves, and
 * what is lost or spoofable there.
 */

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

/** The name of the proxies the trace assumes in front when no trust chain is declared, before their number. */
export const ASSUMED_PROXY_PREFIX = 'assumed-l7-proxy-';

/**
 * The hops in front, the same for every request a trace sends through the gateway with this protocol (honest,
 * forged, bypassing): drawn once per gateway and protocol, with the note that goes with them.
 */
function frontChain(gw: TracedGateway, protocol: string, notes: Finding[], where: string): TrustChain {
  const drawn = entryOf(entryOf(FRONT_CHAINS, gw, () => new Map()), protocol, () => {
    const drawnNotes: Finding[] = [];
    return { chain: drawFrontChain(gw, protocol, drawnNotes, where), notes: drawnNotes };
  });
  notes.push(...drawn.notes);
  return drawn.chain;
}

const FRONT_CHAINS = new WeakMap<TracedGateway, Map<string, { readonly chain: TrustChain; readonly notes: readonly Finding[] }>>();

/** The hops in front: the declared chain, else numTrustedProxies assumed L7 proxies plus the Service's load balancer. */
function drawFrontChain(gw: TracedGateway, protocol: string, notes: Finding[], where: string): TrustChain {
  // HTTP proxies (CDN, L7 load balancer) do not carry TCP or TLS passthrough: TCP clients skip them.
  if (gw.trustChain) return protocol === 'HTTP' ? gw.trustChain : TrustChain.of(...gw.trustChain.hops.filter(h => !h.appendsXff));
  const hops: TrustHop[] = [];
  // HTTP proxies do not carry TCP or TLS passthrough: a TCP client reaches the load balancer directly. Above the
  // cap the parser reported the count as impossible; drawing a billion hops would only exhaust memory.
  const assumed = protocol === 'HTTP' && gw.model.numTrustedProxies <= MAX_ASSUMED_PROXIES ? gw.model.numTrustedProxies : 0;
  for (let i = 1; i <= assumed; i++) hops.push(TrustHop.l7LoadBalancer({ name: `${ASSUMED_PROXY_PREFIX}${i}` }));
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
    const bytes = ipaddr().parse(v4.split('/')[0]).toByteArray();
    if (Number(v4.split('/')[1]) < 32) bytes[3] += 1;
    return ipaddr().fromByteArray(bytes).toString();
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
  const value = ipaddr().IPv4.parse(address).toByteArray().reduce((v, b) => v * 256 + b, 0);
  for (const candidate of [value + 1, value - 1]) {
    if (candidate < 0 || candidate > 0xffffffff) continue;
    const text = [24, 16, 8, 0].map(shift => Math.floor(candidate / 2 ** shift) % 256).join('.');
    if (block === undefined || addressInCidr(text, block)) return text;
  }
  return address;
}

/** How the request enters the chain: the client's own XFF and headers, and from which hop on (a bypass skips some). */
export interface Entry {
  readonly peer: string;
  readonly xff: string[];
  readonly headers?: { readonly [name: string]: string };
  /** Index of the first hop the client connects to. */
  readonly firstHop: number;
}

function walkFront(chain: TrustChain, clientXff: string[], entry?: Entry, showHops = true): FrontResult {
  const hops: HopTrace[] = [];
  const addresses = new Map<string, string>();
  let wire: Wire = entry ? { peer: entry.peer, xff: entry.xff, headers: entry.headers } : { peer: ADDRESSES.client, xff: clientXff };
  chain.hops.forEach((hop, i) => {
    if (entry && i < entry.firstHop) return;
    // The CDN overwrites its client header with the peer it saw, whatever the client sent.
    if (hop.clientHeader) wire = Object.assign({}, wire, { headers: Object.assign({}, wire.headers, { [hop.clientHeader]: wire.peer }) });
    const address = hopAddress(hop, i);
    addresses.set(address, hop.name);
    if (showHops) hops.push({ hop: `${hop.kind} ${hop.name}`, socketPeer: wire.peer, xForwardedFor: join(wire.xff), policies: [] });
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

/**
 * What the gateway decides for one request: the client it resolves and what it forwards. The findings that only
 * compare addresses (the forged request) read this alone; a traced path reads it with its hops (`throughGateway`).
 */
export interface GatewayResolution {
  readonly clientAddress: string;
  /** The gateway's downstream address (the socket peer, or the PROXY source): what an upstream PROXY header carries. */
  readonly downstreamAddress: string;
  /** True when the gateway marked the request internal (Envoy 1.32 defaults). */
  readonly internal: boolean;
  readonly forwardedFor?: string;
  readonly externalAddress?: string;
  readonly fellBack: boolean;
  /** Client-address headers the gateway forwards unchanged. */
  readonly headers?: { readonly [name: string]: string };
}

export interface GatewayStep extends GatewayResolution {
  readonly hops: HopTrace[];
  readonly findings: Finding[];
  readonly addresses: Map<string, string>;
  /** True when an AuthorizationPolicy at the gateway denies the request. */
  readonly denied: boolean;
}

/** The wire after the node: kube-proxy SNATs the packet source to the node with externalTrafficPolicy Cluster. */
function afterNode(gw: TracedGateway, wire: Wire): { readonly wire: Wire; readonly snat: boolean; readonly external: boolean } {
  const m = gw.model;
  const external = gw.serviceType === 'LoadBalancer' || gw.serviceType === 'NodePort' || gw.serviceType === undefined;
  const snat = external && m.externalTrafficPolicy === ExternalTrafficPolicy.CLUSTER && !m.loadBalancerPreservesSource;
  return { wire: snat ? Object.assign({}, wire, { peer: ADDRESSES.node }) : wire, snat, external };
}

/** What the gateway's Envoy resolves from the wire that reaches it. */
function resolveWire(gw: TracedGateway, protocol: string, ctx: TraceContext, wire: Wire): {
  readonly downstream: string;
  readonly sent: boolean;
  readonly accepts: boolean;
  readonly result: { trustedClientAddress: string; forwardedFor?: string; externalAddress?: string; internal?: boolean; fellBack: boolean };
} {
  const m = gw.model;
  const accepts = m.proxyProtocol !== ProxyProtocolMode.OFF;
  const sent = wire.proxySource !== undefined;
  const downstream = sent && accepts ? wire.proxySource! : wire.peer;
  const result = protocol === 'HTTP'
    ? resolveClientAddress({
      useRemoteAddress: true,
      xffNumTrustedHops: m.numTrustedProxies,
      downstreamAddress: downstream,
      xForwardedFor: join(wire.xff),
      privateAddressesAreInternal: ctx.privateAddressesAreInternal,
    })
    : { trustedClientAddress: downstream, fellBack: false };
  return { downstream, sent, accepts, result };
}

function resolution(protocol: string, wire: Wire, resolved: ReturnType<typeof resolveWire>): GatewayResolution {
  const { result, downstream } = resolved;
  return {
    fellBack: result.fellBack,
    clientAddress: result.trustedClientAddress,
    downstreamAddress: downstream,
    internal: result.internal === true,
    forwardedFor: result.forwardedFor,
    externalAddress: result.externalAddress,
    headers: protocol === 'HTTP' ? wire.headers : undefined,
  };
}

/** What the gateway decides for a request whose client sent `clientXff`, without the hops (see `GatewayResolution`). */
export function resolveAtGateway(gw: TracedGateway, protocol: string, ctx: TraceContext, clientXff: string[]): GatewayResolution {
  const m = gw.model;
  const chain = frontChain(gw, protocol, [], `gateway ${m.namespace}/${m.name}`);
  const { wire } = afterNode(gw, walkFront(chain, clientXff, undefined, false).wire);
  return resolution(protocol, wire, resolveWire(gw, protocol, ctx, wire));
}

export function throughGateway(gw: TracedGateway, protocol: string, ctx: TraceContext, clientXff: string[], entry?: Entry): GatewayStep {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const findings: Finding[] = [];
  const chain = frontChain(gw, protocol, findings, where);
  const front = walkFront(chain, clientXff, entry);
  const hops = [...front.hops];
  const node = afterNode(gw, front.wire);
  if (node.external) {
    hops.push({
      hop: 'node',
      socketPeer: front.wire.peer,
      proxyProtocolSource: front.wire.proxySource,
      xForwardedFor: join(front.wire.xff),
      policies: [],
      note: node.snat ? `externalTrafficPolicy Cluster: kube-proxy SNATs to the node IP ${ADDRESSES.node}` : 'externalTrafficPolicy Local: the packet source is kept',
    });
  }
  const wire = node.wire;
  const resolved = resolveWire(gw, protocol, ctx, wire);
  const { sent, accepts, result } = resolved;
  if (sent && !accepts) {
    findings.push(finding(FindingSeverity.ERROR, where, 'the load balancer sends PROXY protocol but the gateway does not accept it: Envoy reads the PROXY header as the start of the request and the connection fails',
      'set gatewayTopology.proxyProtocol: {} on the gateway pods (ProxyProtocolGateway), or turn PROXY protocol off on the load balancer'));
  }
  if (!sent && m.proxyProtocol === ProxyProtocolMode.STRICT) {
    findings.push(finding(FindingSeverity.WARNING, where, 'the gateway requires PROXY protocol on every listener but nothing in front is declared to send it: connections without a PROXY header (health checks, in-cluster callers) fail',
      'enable PROXY protocol on the load balancer (e.g. service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*") and declare it in the trust chain, or remove gatewayTopology.proxyProtocol'));
  }
  if (!sent && m.proxyProtocol === ProxyProtocolMode.STRICT_PER_PORT) {
    // A mandatory PROXY listener filter (EnvoyFilter without allow_requests_without_proxy_protocol) on some ports.
    findings.push(finding(FindingSeverity.WARNING, where, `the gateway requires PROXY protocol on ports ${m.proxyProtocolPorts.join(', ')} (a listener filter that is not optional) but nothing in front is declared to send it: Envoy resets every connection on those ports that does not start with a PROXY header`,
      'enable PROXY protocol on the load balancer for those ports and declare it (a cloud annotation the load-balancer table knows, or source-ip.cdk8s.io/load-balancer-proxy-protocol), or make the filter optional'));
  }
  if (gw.proxyProtocolTwice) {
    findings.push(finding(FindingSeverity.ERROR, where, 'PROXY protocol is enabled both by gatewayTopology.proxyProtocol and by an EnvoyFilter listener filter: the header is parsed twice',
      'keep one: gatewayTopology.proxyProtocol for every listener, or the EnvoyFilter for some ports'));
  }
  const gwPolicies = policiesFor(ctx, m.namespace, m.selector);
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
  return Object.assign(resolution(protocol, wire, resolved), { hops, findings, addresses, denied: deniedBy(gatewayMatches) });
}

/** What is lost or spoofable at the gateway: the honest and the forged request compared with the client. */
export function gatewayFindings(gw: TracedGateway, protocol: string, honest: GatewayStep, forged: GatewayResolution,
  findings: Finding[], where: string): void {
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

/** The gateways' "numTrustedProxies can only be the lower bound" warnings (variable CDN paths), marked as created. */
export const LOWER_BOUND_FINDINGS = new WeakSet<Finding>();
