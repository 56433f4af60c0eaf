import {
  ClientIpField, ExternalTrafficPolicy, GatewayModel, ProxyProtocolMode, ProxyRole, SidecarXffMode, WorkloadModel,
} from '../model/model';

/*
 * Which AuthorizationPolicy field matches the client, given what the enforcing proxy can see.
 * Pure functions over the shared model, so `explain` and the construct give the same answer.
 */

/** True when the gateway restores the client from X-Forwarded-For or PROXY protocol (Envoy's `remote_ip`). */
export function gatewayResolvesClient(gateway: GatewayModel): boolean {
  return gateway.numTrustedProxies > 0 || gateway.proxyProtocol !== ProxyProtocolMode.OFF;
}

/** True when the packet source reaching the gateway pod is the client (or the hop in front), not a node IP. */
export function gatewaySeesPacketSource(gateway: GatewayModel): boolean {
  return gateway.externalTrafficPolicy === ExternalTrafficPolicy.LOCAL || gateway.loadBalancerPreservesSource;
}

/**
 * True when an XffSidecarFilter changes the sidecar's `remote_ip` from the rightmost X-Forwarded-For entry (which
 * the caller writes, istio/istio#30166) to something the sidecar decides.
 */
export function sidecarXffFilterActive(workload: WorkloadModel): boolean {
  switch (workload.xffMode) {
    case SidecarXffMode.TRUSTED_HOPS:
      return (workload.xffTrustedHops ?? 0) > 0;
    case SidecarXffMode.TRUSTED_CIDRS:
      return (workload.xffTrustedCidrs ?? []).length > 0;
    case SidecarXffMode.USE_REMOTE_ADDRESS:
    case SidecarXffMode.CUSTOM_HEADER:
      return true;
    default:
      return false;
  }
}

/**
 * True when the sidecar resolves a client behind its peer: trusted hops or trusted CIDRs. `use_remote_address`
 * does not: it makes the socket peer (behind a gateway, the gateway pod) the client, the same as `ipBlocks`.
 */
export function sidecarResolvesClient(workload: WorkloadModel): boolean {
  return sidecarXffFilterActive(workload) && workload.xffMode !== SidecarXffMode.USE_REMOTE_ADDRESS;
}

/**
 * A gateway that trusts XFF hops or accepts PROXY protocol resolves the client into `remote_ip`:
 * `remoteIpBlocks`. Otherwise the packet source is all it has: `ipBlocks`.
 */
export function recommendedFieldForGateway(gateway: GatewayModel): ClientIpField {
  return gatewayResolvesClient(gateway) ? ClientIpField.REMOTE_IP_BLOCKS : ClientIpField.IP_BLOCKS;
}

/**
 * Ambient (ztunnel) supports only `ipBlocks`. A sidecar matches its direct peer with `ipBlocks` unless an
 * XffSidecarFilter with trusted hops or trusted CIDRs makes its resolved client meaningful (istio/istio#30166).
 */
export function recommendedFieldForWorkload(workload: WorkloadModel): ClientIpField {
  if (workload.role === ProxyRole.AMBIENT) return ClientIpField.IP_BLOCKS;
  return sidecarResolvesClient(workload) ? ClientIpField.REMOTE_IP_BLOCKS : ClientIpField.IP_BLOCKS;
}

/** The recommended field for whichever model a target has; `ipBlocks` when it has none. */
export function recommendedFieldFor(role: ProxyRole, gateway?: GatewayModel, workload?: WorkloadModel): ClientIpField {
  // A waypoint's remote.ip is the rightmost X-Forwarded-For entry (what the ingress gateway appended), else the caller.
  if (role === ProxyRole.WAYPOINT) return ClientIpField.REMOTE_IP_BLOCKS;
  if (role === ProxyRole.GATEWAY && gateway) return recommendedFieldForGateway(gateway);
  if (role !== ProxyRole.GATEWAY && workload) return recommendedFieldForWorkload(workload);
  return ClientIpField.IP_BLOCKS;
}
