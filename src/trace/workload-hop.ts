import { WAYPOINT_HCM } from './ambient-expectations';
import { ADDRESSES, matchPolicies, policiesFor, policyNote, TraceContext } from './context';
import { HopTrace } from './trace-types';
import { resolveClientAddress, trustedEntryPosition } from './xff-rule';
import { InterceptionMode, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';

/*
 * The hop behind the gateway: a sidecar (REDIRECT, TPROXY, with or without an XFF filter or PROXY), or ztunnel and a
 * waypoint in ambient mode.
 */

/**
 * What a workload's proxies decide for one request: the client they resolve and what reaches the app. The findings
 * that only compare addresses (a forged request, a client that bypasses the CDN) read this alone; a traced path reads
 * it with its hops (`throughWorkload`), computed from the same decision.
 */
export interface WorkloadResolution {
  readonly clientAddress: string;
  /** True when the sidecar took the client from a PROXY header its caller sent. */
  readonly viaProxyProtocol: boolean;
  /** True when the sidecar answered instead of forwarding (custom header, fail closed). */
  readonly rejected?: boolean;
  readonly forwardedFor?: string;
  readonly appPeer: string;
}

export interface WorkloadStep extends WorkloadResolution {
  readonly hops: HopTrace[];
}

/** True when the workload's sidecar strips PROXY protocol headers on its inbound listener. */
export function acceptsProxyProtocol(wl: WorkloadModel): boolean {
  return wl.proxyProtocolOnEveryPort === true || (wl.proxyProtocolPorts ?? []).length > 0;
}

/** Where the request goes in the workload, and what the proxy there decides (with what its hop shows). */
type Decision =
  | { readonly at: 'waypoint'; readonly resolution: WorkloadResolution }
  | { readonly at: 'ztunnel'; readonly resolution: WorkloadResolution }
  | { readonly at: 'not intercepting'; readonly resolution: WorkloadResolution }
  | { readonly at: 'sidecar'; readonly resolution: WorkloadResolution; readonly header?: string; readonly rejectedWithStatus?: number };

function decide(wl: WorkloadModel, peer: string, xff: string | undefined, protocol: string,
  headers?: { readonly [name: string]: string }, proxySource?: string): Decision {
  if (wl.role === ProxyRole.AMBIENT && passesWaypoint(wl, peer)) {
    // The waypoint sees the caller as source.ip (ztunnel restores it) and takes remote.ip from the rightmost
    // X-Forwarded-For entry (use_remote_address false, no trusted hops); it appends nothing. ztunnel at the destination
    // sees the waypoint pod, and so does the app.
    const entries = protocol === 'HTTP' && xff ? xff.split(',').map(e => e.trim()).filter(e => e !== '') : [];
    const position = trustedEntryPosition(WAYPOINT_HCM.useRemoteAddress, WAYPOINT_HCM.xffNumTrustedHops);
    const remote = position > 0 && entries.length >= position ? entries[entries.length - position] : peer;
    return { at: 'waypoint', resolution: { clientAddress: remote, forwardedFor: xff, appPeer: ADDRESSES.waypointPod, viaProxyProtocol: false } };
  }
  if (wl.role === ProxyRole.AMBIENT) {
    return { at: 'ztunnel', resolution: { clientAddress: peer, forwardedFor: xff, appPeer: peer, viaProxyProtocol: false } };
  }
  if (wl.interceptionMode === InterceptionMode.NONE) {
    return { at: 'not intercepting', resolution: { clientAddress: peer, forwardedFor: xff, appPeer: peer, viaProxyProtocol: false } };
  }
  // A PROXY listener filter replaces the downstream address with the header's source (Envoy's remote address).
  const viaProxyProtocol = proxySource !== undefined && acceptsProxyProtocol(wl);
  const downstream = viaProxyProtocol ? proxySource : peer;
  const header = wl.xffMode === SidecarXffMode.CUSTOM_HEADER ? wl.clientHeaderName : undefined;
  const result = protocol === 'HTTP'
    ? resolveClientAddress(Object.assign(sidecarSettings(wl), {
      downstreamAddress: downstream, xForwardedFor: xff, clientHeaderValue: header ? headers?.[header] : undefined,
    }))
    : { trustedClientAddress: downstream, forwardedFor: undefined, rejectedWithStatus: undefined };
  return {
    at: 'sidecar',
    header,
    rejectedWithStatus: result.rejectedWithStatus,
    resolution: {
      clientAddress: result.trustedClientAddress,
      rejected: result.rejectedWithStatus !== undefined,
      forwardedFor: result.forwardedFor,
      viaProxyProtocol,
      // TPROXY's original_src uses the downstream address, which a PROXY listener filter has restored.
      appPeer: wl.interceptionMode === InterceptionMode.TPROXY ? downstream : ADDRESSES.redirectPeer,
    },
  };
}

/** What the workload's proxies decide for a request from `peer`, without the hops (see `WorkloadResolution`). */
export function resolveAtWorkload(wl: WorkloadModel, peer: string, xff: string | undefined, protocol: string,
  headers?: { readonly [name: string]: string }, proxySource?: string): WorkloadResolution {
  return decide(wl, peer, xff, protocol, headers, proxySource).resolution;
}

export function throughWorkload(wl: WorkloadModel, peer: string, xff: string | undefined, xeea: string | undefined,
  ctx: TraceContext, protocol: string, headers?: { readonly [name: string]: string }, proxySource?: string): WorkloadStep {
  const decision = decide(wl, peer, xff, protocol, headers, proxySource);
  const resolved = decision.resolution;
  const wlPolicies = policiesFor(ctx, wl.namespace, wl.selector);
  if (decision.at === 'waypoint') {
    const waypointPolicies = ctx.waypointPolicies.get(wl.waypoint!) ?? [];
    return withHops(resolved, [{
      hop: `waypoint ${wl.waypoint}`,
      socketPeer: peer,
      clientAddress: resolved.clientAddress,
      xForwardedFor: protocol === 'HTTP' ? xff : undefined,
      policies: matchPolicies(waypointPolicies, peer, resolved.clientAddress),
      note: policyNote(waypointPolicies, 'waypoint: source.ip is the caller, remote.ip the rightmost X-Forwarded-For entry; it appends no X-Forwarded-For'),
    }, {
      hop: 'ztunnel',
      socketPeer: ADDRESSES.waypointPod,
      clientAddress: ADDRESSES.waypointPod,
      policies: matchPolicies(wlPolicies, ADDRESSES.waypointPod, undefined),
      note: policyNote(wlPolicies, 'ambient behind a waypoint: ztunnel sees the waypoint pod as the source'),
    }]);
  }
  if (decision.at === 'ztunnel') {
    return withHops(resolved, [{
      hop: 'ztunnel',
      socketPeer: peer,
      clientAddress: peer,
      policies: matchPolicies(wlPolicies, peer, undefined),
      note: policyNote(wlPolicies, 'ambient: ztunnel keeps the peer address; remoteIpBlocks is not supported without a waypoint'),
    }]);
  }
  if (decision.at === 'not intercepting') {
    return withHops(resolved, [{ hop: 'sidecar (not intercepting)', socketPeer: peer, policies: [], note: 'interceptionMode NONE: inbound traffic bypasses the sidecar; no policy applies' }]);
  }
  const header = decision.header;
  const rejected = decision.rejectedWithStatus !== undefined ? `; rejected with ${decision.rejectedWithStatus}: no valid ${header} header` : '';
  const ports = (wl.xffPorts ?? []).length > 0 ? ` (XFF settings only on ports ${wl.xffPorts!.join(', ')})` : '';
  return withHops(resolved, [{
    hop: `sidecar ${wl.interceptionMode}`,
    socketPeer: peer,
    ...(resolved.viaProxyProtocol ? { proxyProtocolSource: proxySource } : {}),
    xForwardedFor: protocol === 'HTTP' ? xff : undefined,
    externalAddress: protocol === 'HTTP' ? xeea : undefined,
    clientAddress: resolved.clientAddress,
    policies: matchPolicies(wlPolicies, peer, resolved.clientAddress),
    note: policyNote(wlPolicies, `XFF mode ${wl.xffMode}${header ? ` (client from ${header}: ${headers?.[header] ?? 'absent'})` : ''}${ports}${rejected}`
      + (resolved.viaProxyProtocol ? '; PROXY protocol from the caller (DestinationRule)' : '')),
  }]);
}

/**
 * The resolution with its hops, one property after another: on Node 20's V8 an object literal that starts with a
 * spread and has more members gets a hidden class of its own (docs/ARCHITECTURE.md, "Object literals").
 */
function withHops(resolved: WorkloadResolution, hops: HopTrace[]): WorkloadStep {
  return {
    clientAddress: resolved.clientAddress,
    viaProxyProtocol: resolved.viaProxyProtocol,
    rejected: resolved.rejected,
    forwardedFor: resolved.forwardedFor,
    appPeer: resolved.appPeer,
    hops,
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
