import { ztunnelEffect } from './ambient-expectations';
import { ADDRESSES, listsOnlyExternalRanges, names, policiesFor, TraceContext } from './context';
import { Entry, GatewayStep, LOWER_BOUND_FINDINGS, throughGateway } from './gateway-hop';
import { resolveAtWorkload } from './workload-hop';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { ClientIpField, InterceptionMode, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';
import { TracedGateway } from '../model/trace-model';

/*
 * What a path means for the workload behind the gateway: a client that skips the CDN, what the sidecar's and the
 * waypoint's policies match, and where the app finds the client.
 */

/** The gateway's lower-bound warning is settled when the sidecar behind it finds the client by trusted CIDRs. */
export function settleLowerBound(findings: Finding[], gatewayWhere: string, workloadWhere: string): void {
  const i = findings.findIndex(f => f.where === gatewayWhere && LOWER_BOUND_FINDINGS.has(f));
  if (i < 0) return;
  findings[i] = finding(FindingSeverity.INFO, gatewayWhere, `${findings[i].message}; ${workloadWhere} resolves the client with trusted CIDRs`, findings[i].fix);
}

/**
 * A client that skips the CDN (connects to the hop after it, or to the gateway) and forges X-Forwarded-For and the
 * CDN's client header: it must be denied at the gateway, or resolve to its real address, or be rejected.
 */
export function bypassFindings(gw: TracedGateway, wl: WorkloadModel, ctx: TraceContext, honest: GatewayStep,
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
  const side = resolveAtWorkload(wl, ADDRESSES.gatewayPod, bypass.forwardedFor, 'HTTP', bypass.headers);
  const honestSide = resolveAtWorkload(wl, ADDRESSES.gatewayPod, honest.forwardedFor, 'HTTP', honest.headers);
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

export function sidecarFindings(wl: WorkloadModel, gw: TracedGateway, protocol: string, honest: string, forged: string, gatewayClient: string,
  ctx: TraceContext, findings: Finding[], where: string): void {
  const remotePolicies = policiesFor(ctx, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  if (wl.role === ProxyRole.AMBIENT) {
    if (remotePolicies.length > 0) {
      findings.push(finding(FindingSeverity.ERROR, where, `remoteIpBlocks in ${names(remotePolicies)} is not supported by ztunnel: ${remotePolicies.map(p => `${p.name}: ${ztunnelEffect(p)}`).join('; ')}`,
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

export function appFindings(wl: WorkloadModel, appPeer: string, xeea: string | undefined, protocol: string,
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
