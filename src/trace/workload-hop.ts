import { WAYPOINT_HCM } from './ambient-expectations';
import { ADDRESSES, matchPolicies, policiesFor, policyNote, TraceContext } from './context';
import { HopTrace } from './trace-types';
import { resolveClientAddress, trustedEntryPosition } from './xff-rule';
import { InterceptionMode, PolicyModel, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';

/*
 * The hop behind the gateway: a sidecar (REDIRECT, TPROXY, with or without an XFF filter or PROXY), or ztunnel and a
 * waypoint in ambient mode.
 */

export interface WorkloadStep {
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
export function acceptsProxyProtocol(wl: WorkloadModel): boolean {
  return wl.proxyProtocolOnEveryPort === true || (wl.proxyProtocolPorts ?? []).length > 0;
}

export function throughWorkload(wl: WorkloadModel, peer: string, xff: string | undefined, xeea: string | undefined,
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
  ztunnelPolicies: readonly PolicyModel[]): WorkloadStep {
  const entries = protocol === 'HTTP' && xff ? xff.split(',').map(e => e.trim()).filter(e => e !== '') : [];
  const position = trustedEntryPosition(WAYPOINT_HCM.useRemoteAddress, WAYPOINT_HCM.xffNumTrustedHops);
  const remote = position > 0 && entries.length >= position ? entries[entries.length - position] : peer;
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
