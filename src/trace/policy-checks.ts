import { ztunnelEffect } from './ambient-expectations';
import { gatewayResolvesClient, gatewaySeesPacketSource, sidecarXffFilterActive } from './field-choice';
import {
  ClientIpField, GatewayModel, PolicyAction, PolicyModel, PolicyTargetRef, ProxyProtocolMode, ProxyRole, SidecarXffMode, WaypointModel, WorkloadModel,
} from '../model/model';
import { sameSelector } from '../model/selectors';
import { isOpaqueServer, listenerPortOf } from '../model/servers';
import { Cidr, cidrContains, parseCidr } from '../net/cidr';
import { ipaddr } from '../net/ip-address';

/*
 * The checks behind SourceIpPolicy, as pure functions over the shared model so that `explain` can run
 * them on parsed manifests. Each returns errors (the policy cannot work) and warnings (it works, but
 * probably not as meant), every message with the fix.
 */

/** What a check found. */
export interface Findings {
  readonly errors: string[];
  readonly warnings: string[];
}

/** A policy as the checks see it: the model plus the request properties it is limited to. */
export interface PolicyCheckInput {
  readonly policy: PolicyModel;
  /** The enforcing proxy. */
  readonly role: ProxyRole;
  readonly gateway?: GatewayModel;
  readonly workload?: WorkloadModel;
  /** The waypoint, for role WAYPOINT. */
  readonly waypoint?: WaypointModel;
  /** For role WAYPOINT: the ambient workloads whose traffic goes through it, when known. */
  readonly waypointUsers?: WorkloadModel[];
  /** `to.operation.ports`; empty means every port. */
  readonly ports: number[];
  /** True when the rule also matches HTTP attributes (paths or methods). */
  readonly matchesHttpAttributes: boolean;
  /** True when the user chose the field rather than letting it follow the topology. */
  readonly fieldForced: boolean;
}

/**
 * The loopback blocks, written as `parseCidr` gives them (test/policy/policy-checks.test.ts checks that): an app of IPv4
 * policies then never loads ipaddr.js to read `::1/128`.
 */
export const LOOPBACK_BLOCKS: readonly Cidr[] = [
  { text: '127.0.0.0/8', address: '127.0.0.0', prefixLength: 8, family: 4 },
  { text: '::1/128', address: '::1', prefixLength: 128, family: 6 },
];

/**
 * Policy ports on a gateway as Envoy sees them: a server (Service) port becomes its listener port, a listener
 * port stays; anything else is an error naming the server ports. Without known servers, ports are kept.
 */
export function gatewayPolicyPorts(gateway: GatewayModel, ports: number[]): { readonly ports: number[]; readonly errors: string[] } {
  if (gateway.servers.length === 0) return { ports: [...ports], errors: [] };
  const errors: string[] = [];
  const resolved: number[] = [];
  ports.forEach((p, i) => {
    const byServicePort = gateway.servers.find(s => s.port === p);
    const byListenerPort = gateway.servers.find(s => listenerPortOf(s) === p);
    const port = byServicePort ? listenerPortOf(byServicePort) : byListenerPort ? p : undefined;
    if (port === undefined) {
      const known = [...new Set(gateway.servers.map(s => s.port))];
      errors.push(`ports[${i}] ${p} matches no server of gateway "${gateway.namespace}/${gateway.name}": use one of its server ports ${JSON.stringify(known)}, or add a server on port ${p} first`);
    } else if (!resolved.includes(port)) {
      resolved.push(port);
    }
  });
  return { ports: resolved, errors };
}

function none(): Findings {
  return { errors: [], warnings: [] };
}

function merge(...all: Findings[]): Findings {
  return { errors: all.flatMap(f => f.errors), warnings: all.flatMap(f => f.warnings) };
}

function fieldSource(field: ClientIpField): string {
  return field === ClientIpField.IP_BLOCKS ? 'source.ipBlocks' : 'source.remoteIpBlocks';
}

function how(input: PolicyCheckInput): string {
  return input.fieldForced ? `field ${input.policy.field}` : `field ${input.policy.field} (chosen from the target's topology)`;
}

/**
 * Checks a list of CIDRs on its own: an ALLOW on loopback (what REDIRECT shows the app, never what
 * the proxy sees), duplicates and blocks inside other blocks.
 */
export function checkCidrList(cidrs: Cidr[], action: PolicyAction, negated: boolean, property = 'cidrs'): Findings {
  const errors: string[] = [];
  const warnings: string[] = [];
  // A list with no duplicates or nesting (e.g. an aggregated CidrList) needs no pairwise look: O(n log n), not O(n^2).
  const disjoint = blocksAreDisjoint(cidrs);
  cidrs.forEach((cidr, i) => {
    const loopbackBlock = LOOPBACK_BLOCKS.find(l => cidrContains(l, cidr));
    if (action === PolicyAction.ALLOW && !negated && loopbackBlock) {
      errors.push(`${property}[${i}] "${cidr.text}" allow-lists loopback (${loopbackBlock.text}), which is what iptables REDIRECT shows the app, never the peer the proxy enforces on: `
        + 'allow the real client or caller CIDRs instead (the sidecar sees the real peer even in REDIRECT mode)');
    }
    if (disjoint) return;
    for (let j = 0; j < i; j++) {
      const earlier = cidrs[j];
      if (earlier.text === cidr.text) {
        warnings.push(`${property}[${i}] "${cidr.text}" repeats ${property}[${j}]: remove the duplicate`);
      } else if (cidrContains(earlier, cidr)) {
        warnings.push(`${property}[${i}] "${cidr.text}" lies inside ${property}[${j}] "${earlier.text}": remove the narrower block`);
      } else if (cidrContains(cidr, earlier)) {
        warnings.push(`${property}[${j}] "${earlier.text}" lies inside ${property}[${i}] "${cidr.text}": remove the narrower block`);
      }
    }
  });
  return { errors, warnings };
}

/** True when no two blocks share an address (sorted sweep over address ranges). */
function blocksAreDisjoint(cidrs: Cidr[]): boolean {
  if (cidrs.length < 2) return true;
  const ranges = cidrs.map(c => {
    const bits = c.family === 4 ? 32 : 128;
    const start = ipaddr().parse(c.address).toByteArray().reduce((v, b) => v * 256n + BigInt(b), 0n);
    return { family: c.family, start, end: start + 2n ** BigInt(bits - c.prefixLength) - 1n };
  }).sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return ranges.every((r, i) => i === 0 || ranges[i - 1].family !== r.family || ranges[i - 1].end < r.start);
}

/** Checks one policy against the topology of the proxy that enforces it. */
export function checkPolicyAgainstTarget(input: PolicyCheckInput): Findings {
  if (input.role === ProxyRole.GATEWAY) {
    return input.gateway ? merge(checkGatewayPorts(input, input.gateway), checkGatewayPolicy(input, input.gateway)) : none();
  }
  if (input.role === ProxyRole.AMBIENT) return checkAmbientPolicy(input);
  if (input.role === ProxyRole.WAYPOINT) return checkWaypointPolicy(input);
  return input.workload ? checkSidecarPolicy(input, input.workload) : none();
}

function checkGatewayPolicy(input: PolicyCheckInput, gateway: GatewayModel): Findings {
  const name = `gateway "${gateway.namespace}/${gateway.name}"`;
  if (input.policy.field === ClientIpField.IP_BLOCKS) {
    if (!gatewaySeesPacketSource(gateway)) {
      return {
        errors: [`${how(input)} cannot match clients on ${name}: its Service uses externalTrafficPolicy Cluster, so kube-proxy SNATs the traffic and ${fieldSource(input.policy.field)} sees node IPs (istio/istio#21916); `
          + 'set externalTrafficPolicy Local, use a load balancer that preserves the source address, or use remoteIpBlocks with PROXY protocol or trusted X-Forwarded-For hops'],
        warnings: [],
      };
    }
    if (gatewayResolvesClient(gateway)) {
      return {
        errors: [],
        warnings: [`${how(input)} on ${name} matches the direct peer (the load balancer or the last proxy in front), not the client the gateway resolves from ${resolvedFrom(gateway)}: use remoteIpBlocks to match the client`],
      };
    }
    return none();
  }
  return merge(checkGatewayRemoteIpBlocks(input, gateway, name), checkOpaqueServers(input, gateway, name));
}

function checkGatewayPorts(input: PolicyCheckInput, gateway: GatewayModel): Findings {
  return { errors: gatewayPolicyPorts(gateway, input.ports).errors, warnings: [] };
}

function resolvedFrom(gateway: GatewayModel): string {
  const sources = [];
  if (gateway.numTrustedProxies > 0) sources.push(`X-Forwarded-For (numTrustedProxies ${gateway.numTrustedProxies})`);
  if (gateway.proxyProtocol !== ProxyProtocolMode.OFF) sources.push(`PROXY protocol (${gateway.proxyProtocol})`);
  return sources.join(' and ');
}

function checkGatewayRemoteIpBlocks(input: PolicyCheckInput, gateway: GatewayModel, name: string): Findings {
  if (gatewayResolvesClient(gateway)) return none();
  if (!gatewaySeesPacketSource(gateway)) {
    return {
      errors: [`${how(input)} cannot match clients on ${name}: it trusts no X-Forwarded-For hop (numTrustedProxies 0) and accepts no PROXY protocol, so remote.ip is the packet source, `
        + 'which externalTrafficPolicy Cluster rewrites to a node IP (istio/istio#21916); set numTrustedProxies to the number of proxies in front, enable PROXY protocol, or set externalTrafficPolicy Local and use ipBlocks'],
      warnings: [],
    };
  }
  return {
    errors: [],
    warnings: [`${how(input)} on ${name} is the packet source because the gateway trusts no X-Forwarded-For hop and accepts no PROXY protocol: use ipBlocks, which says the same more plainly`],
  };
}

function proxyProtocolOnPort(gateway: GatewayModel, port: number): boolean {
  if (gateway.proxyProtocol === ProxyProtocolMode.OFF) return false;
  if (gateway.proxyProtocol === ProxyProtocolMode.STRICT) return true;
  return gateway.proxyProtocolPorts.length === 0 || gateway.proxyProtocolPorts.includes(port);
}


/** On TCP and TLS passthrough servers there is no X-Forwarded-For: only PROXY protocol sets remote.ip. */
function checkOpaqueServers(input: PolicyCheckInput, gateway: GatewayModel, name: string): Findings {
  const ports = gatewayPolicyPorts(gateway, input.ports).ports;
  const involved = gateway.servers.filter(s => input.ports.length === 0 || ports.includes(listenerPortOf(s)));
  const errors = involved
    .filter(s => isOpaqueServer(s) && !proxyProtocolOnPort(gateway, s.port))
    .map(s => `${how(input)} cannot match clients on ${name} port ${s.port} (${s.protocol}${s.tlsMode ? ` ${s.tlsMode}` : ''}): TCP and TLS passthrough servers carry no X-Forwarded-For and PROXY protocol is off on that port, `
      + `so remote.ip is the load balancer or node; enable PROXY protocol on port ${s.port}, limit the policy to HTTP servers with ports, or use ipBlocks with externalTrafficPolicy Local`);
  return { errors, warnings: [] };
}

/** Ports where the sidecar's remote.ip is not the caller-written rightmost XFF entry: an XFF filter or PROXY protocol covers them. */
function sidecarCoversPorts(workload: WorkloadModel, ports: number[]): { covered: boolean; uncovered: string } {
  const filterPorts = workload.xffPorts ?? [];
  const filterAll = sidecarXffFilterActive(workload) && filterPorts.length === 0;
  if (ports.length === 0) return { covered: filterAll, uncovered: 'every port (no ports set)' };
  const byFilter = (p: number) => sidecarXffFilterActive(workload) && (filterAll || filterPorts.includes(p));
  const byProxyProtocol = (p: number) => workload.proxyProtocolOnEveryPort === true || (workload.proxyProtocolPorts ?? []).includes(p);
  const missing = ports.filter(p => !byFilter(p) && !byProxyProtocol(p));
  return { covered: missing.length === 0, uncovered: `port ${missing.join(', ')}` };
}

function checkSidecarPolicy(input: PolicyCheckInput, workload: WorkloadModel): Findings {
  if (input.policy.field !== ClientIpField.REMOTE_IP_BLOCKS) return none();
  const name = `sidecar workload "${workload.namespace}/${workload.name}"`;
  const resolvesAnywhere = sidecarXffFilterActive(workload) || workload.proxyProtocolOnEveryPort === true
    || (workload.proxyProtocolPorts ?? []).length > 0;
  if (!resolvesAnywhere) {
    return {
      errors: [`${how(input)} cannot match clients on ${name}: without trusted hops the sidecar takes remote.ip from the rightmost X-Forwarded-For entry, which the caller writes (istio/istio#30166); `
        + 'add an XffSidecarFilter that trusts the gateway\'s hops, or use ipBlocks to match the direct peer'],
      warnings: [],
    };
  }
  const { covered, uncovered } = sidecarCoversPorts(workload, input.ports);
  if (!covered) {
    return {
      errors: [`${how(input)} cannot match clients on ${name} for ${uncovered}: the XffSidecarFilter covers only ports ${JSON.stringify(workload.xffPorts ?? [])} and PROXY protocol ports ${JSON.stringify(workload.proxyProtocolPorts ?? [])}; `
        + 'limit the policy to those ports with ports, or extend the filter to these ports'],
      warnings: [],
    };
  }
  if (workload.xffMode === SidecarXffMode.USE_REMOTE_ADDRESS) {
    return {
      errors: [],
      warnings: [`${how(input)} on ${name} is the socket peer because its XffSidecarFilter sets use_remote_address (behind a gateway, the gateway pod), the same as ipBlocks: `
        + 'use ipBlocks, or trust the gateway\'s hops (XffTrust.trustHopsOf) to match the client the gateway resolved'],
    };
  }
  return none();
}

function checkAmbientPolicy(input: PolicyCheckInput): Findings {
  const name = input.workload ? `ambient workload "${input.workload.namespace}/${input.workload.name}"` : 'an ambient workload';
  const errors: string[] = [];
  if (input.policy.field === ClientIpField.REMOTE_IP_BLOCKS) {
    errors.push(`${how(input)} is not supported on ${name}: ztunnel treats remoteIpBlocks as an HTTP attribute, so ${ztunnelEffect({ action: input.policy.action, field: ClientIpField.REMOTE_IP_BLOCKS })}; use ipBlocks (ztunnel keeps the source address), or deploy a Waypoint and attach the policy to it with targetRefs (waypoint.allowFrom / denyFrom)`);
  }
  if (input.matchesHttpAttributes) {
    errors.push(`paths and methods are not supported on ${name}: ztunnel enforces only L4 attributes, so ${ztunnelEffect({ action: input.policy.action, field: input.policy.field, matchesHttpAttributes: true })}; remove paths and methods (ports are fine), or deploy a Waypoint and attach the policy to it with targetRefs (waypoint.allowFrom / denyFrom)`);
  }
  const waypoint = input.workload?.waypoint;
  if (errors.length === 0 && waypoint !== undefined && !input.policy.negated) {
    // ztunnel receives the traffic through the waypoint over HBONE from the waypoint pod: that is its source.ip.
    const text = `${how(input)} on ${name} sees the waypoint "${waypoint}" as the source of every request that passes it (ztunnel takes the HBONE peer), so ${input.policy.action === PolicyAction.ALLOW ? 'this ALLOW denies the traffic through the waypoint' : 'this DENY never matches the traffic through the waypoint'}; `
      + 'attach the policy to the waypoint instead (waypoint.allowFrom / denyFrom, targetRefs), where source.ip is the caller';
    if (input.policy.action === PolicyAction.ALLOW) errors.push(text);
    else return { errors, warnings: [text] };
  }
  return { errors, warnings: [] };
}

/**
 * A waypoint resolves `remote.ip` from the rightmost X-Forwarded-For entry (use_remote_address false, no trusted
 * hops): behind an ingress gateway that is the address the gateway appended. Ingress traffic passes the waypoint
 * only when its workloads set istio.io/ingress-use-waypoint.
 */
function checkWaypointPolicy(input: PolicyCheckInput): Findings {
  const name = input.waypoint ? `waypoint "${input.waypoint.namespace}/${input.waypoint.name}"` : 'a waypoint';
  if (input.policy.field !== ClientIpField.REMOTE_IP_BLOCKS) return none();
  const warnings = [`${how(input)} on ${name} matches the rightmost X-Forwarded-For entry: for requests from the ingress gateway the address the gateway appended (its own peer), but an in-mesh caller that reaches the waypoint directly writes that entry itself; `
    + 'match in-mesh callers with ipBlocks (or principals) in another policy on the waypoint, or enforce client addresses at the gateway'];
  const users = input.waypointUsers ?? [];
  if (users.length > 0 && !users.some(w => w.ingressUseWaypoint === true)) {
    warnings.push(`${how(input)} on ${name}: no workload that uses the waypoint sets istio.io/ingress-use-waypoint, so requests from ingress gateways skip the waypoint and this policy never sees them; `
      + 'set ingressUseWaypoint on the AmbientNamespace or AmbientWorkload, or enforce the policy at the gateway');
  }
  return { errors: [], warnings };
}

/** A policy plus whether its rule is limited to some requests (then it does not cover its CIDRs outright). */
export interface PolicyOnTarget {
  readonly policy: PolicyModel;
  /** True when ports, paths or methods limit the rule. */
  readonly limited: boolean;
  /** Where the policy is defined, for messages (construct path or name). */
  readonly where: string;
}

function sameTarget(a: PolicyModel, b: PolicyModel): boolean {
  return a.namespace === b.namespace && sameSelector(a.selector, b.selector) && sameTargetRefs(a.targetRefs, b.targetRefs);
}

/** True when two policies attach to the same `targetRefs` (in any order); none on both is the same too. */
export function sameTargetRefs(a: PolicyTargetRef[] | undefined, b: PolicyTargetRef[] | undefined): boolean {
  const keys = (refs: PolicyTargetRef[] | undefined) => (refs ?? []).map(r => `${r.group}/${r.kind}/${r.name}`).sort().join(',');
  return keys(a) === keys(b);
}

/**
 * Checks a DENY policy against the ALLOW policies on the same workload and field: the same CIDR in both
 * is an error (DENY is evaluated first, so the ALLOW entry is dead), an overlap is a warning. Reported
 * from the DENY side only, so each conflict is named once.
 */
export function checkAllowDenyConflicts(deny: PolicyOnTarget, others: PolicyOnTarget[]): Findings {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (deny.policy.action !== PolicyAction.DENY || deny.policy.negated || deny.limited) return { errors, warnings };
  const denied = deny.policy.cidrs.map(c => parseCidr(c));
  for (const allow of others) {
    const p = allow.policy;
    if (p.action !== PolicyAction.ALLOW || p.negated || p.field !== deny.policy.field || !sameTarget(p, deny.policy)) continue;
    for (const text of p.cidrs) {
      const allowed = parseCidr(text);
      const same = denied.find(d => d.text === allowed.text);
      if (same) {
        errors.push(`cidrs "${same.text}" is both denied here and allowed by ${allow.where}: DENY is evaluated first, so the allow entry never takes effect; remove it from one of the two policies`);
        continue;
      }
      const overlap = denied.find(d => cidrContains(d, allowed) || cidrContains(allowed, d));
      if (overlap) {
        warnings.push(`cidrs "${overlap.text}" overlaps "${allowed.text}" allowed by ${allow.where}: DENY is evaluated first, so the overlapping addresses are denied; narrow one of the blocks if that is not meant`);
      }
    }
  }
  return { errors, warnings };
}
