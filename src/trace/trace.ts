import { eastWestHeaders, HeaderWriter, headerFindings, inMeshHeaderFindings, sidecarHeader, withHeaderValues } from './client-header';
import { ADDRESSES, listsOnlyExternalRanges, names, policiesFor, TraceContext } from './context';
import { gatewayFindings, GatewayStep, resolveAtGateway, throughGateway } from './gateway-hop';
import { appFindings, bypassFindings, settleLowerBound, sidecarFindings } from './path-findings';
import {
  behindGatewayRateLimitFindings, gatewayRateLimitFindings, inMeshRateLimitFindings, rateLimitsAt, withRateLimits,
} from './rate-limit-hop';
import { SelectorIndex } from './selector-index';
import { HopTrace, PathTrace } from './trace-types';
import { acceptsProxyProtocol, resolveAtWorkload, throughWorkload, WorkloadResolution } from './workload-hop';
import { waypointsOfPolicy } from '../model/ambient';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { IstioVersion } from '../model/istio-version';
import { ClientIpField, InterceptionMode, PolicyModel, ProxyRole, SidecarXffMode, WorkloadModel } from '../model/model';
import { rateLimitsOn } from '../model/rate-limit';
import { isOpaqueServer } from '../model/servers';
import { RouteProtocol, TracedGateway, TraceModel } from '../model/trace-model';
import { entryOf } from '../util/keys';

/*
 * Walks client -> hops in front -> node -> gateway -> sidecar or waypoint -> app with documentation addresses and
 * Envoy's rule at each Envoy, then again with a forged X-Forwarded-For to see what a client can change. The hops live in
 * gateway-hop.ts and workload-hop.ts, what they mean for the workload in path-findings.ts, the shared context in
 * context.ts.
 */

/** Workloads traced behind a gateway that no VirtualService binds: a sample, so that output stays linear. */
export const MAX_UNROUTED_WORKLOADS = 16;

/**
 * Traces every path of the model with `version`'s Envoy defaults; findings about the whole model are returned apart.
 * Without `drawHops`, the east-west paths have no hops (their findings are the same).
 */
export function tracePaths(parsed: TraceModel, version: IstioVersion, drawHops = true): { paths: PathTrace[]; findings: Finding[] } {
  const policyIndex = new SelectorIndex<PolicyModel>();
  const waypointPolicies = new Map<string, PolicyModel[]>();
  for (const p of parsed.policies) {
    // Sidecars, classic gateways and ztunnel ignore policies attached with targetRefs; the Gateway API gateways and
    // waypoints they name enforce them. A Gateway API gateway's policies carry its pods' labels as their selector,
    // a waypoint's carry none.
    if ((p.targetRefs ?? []).length === 0 || Object.keys(p.selector).length > 0) policyIndex.add(p.namespace, p.selector, p);
    const namespaceWaypoint = parsed.namespaceWaypoints?.get(p.namespace);
    for (const w of waypointsOfPolicy(p, parsed.waypoints, name => parsed.workloadsOfService(p.namespace, name), namespaceWaypoint)) {
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
    rateLimits: parsed.rateLimits,
  };
  const paths: PathTrace[] = [];
  const findings: Finding[] = [];
  // The workloads by `namespace/name` and their order, for the routes of gateways (made at the first one).
  let byName: Map<string, WorkloadModel[]> | undefined;
  let position: Map<WorkloadModel, number> | undefined;
  const workloadsNamed = (key: string): WorkloadModel[] => {
    if (!byName) {
      byName = new Map();
      for (const w of parsed.workloads) entryOf(byName, `${w.namespace}/${w.name}`, () => []).push(w);
    }
    return byName.get(key) ?? [];
  };
  const positionOf = (w: WorkloadModel): number => {
    position ??= new Map<WorkloadModel, number>(parsed.workloads.map((x, i) => [x, i]));
    return position.get(w)!;
  };
  // The client-address headers each workload receives from the gateways in front (an in-mesh caller can forge them).
  const gatewayHeaders = new Map<WorkloadModel, Array<{ gateway: string; header: string }>>();
  const northSouth = (gw: TracedGateway, wl: WorkloadModel | undefined, protocol: string): PathTrace => {
    const header = gw.model.clientAddressHeader;
    if (wl && header !== undefined && protocol === 'HTTP') {
      gatewayHeaders.set(wl, [...(gatewayHeaders.get(wl) ?? []), { gateway: `gateway ${gw.model.namespace}/${gw.model.name}`, header }]);
    }
    return traceNorthSouth(gw, wl, protocol, ctx);
  };
  for (const gw of parsed.gateways) {
    const routed = parsed.routes.get(`${gw.model.namespace}/${gw.model.name}`);
    if (!routed) {
      // Nothing says what is behind the gateway: every protocol of its servers to a sample of the workloads.
      const sample = unroutedSample(gw, parsed, findings);
      const behind = sample.length > 0 ? sample : [undefined];
      for (const protocol of protocolsOf(gw)) {
        for (const wl of behind) paths.push(northSouth(gw, wl, protocol));
      }
      continue;
    }
    // Each workload with the protocols its routes carry: a TCP route's backend is not traced as HTTP.
    const candidates = [...routed.keys()].flatMap(workloadsNamed).sort((a, b) => positionOf(a) - positionOf(b));
    const protocols = [...new Set([...protocolsOf(gw), ...[...routed.values()].flatMap(p => [...p])])].sort(byProtocol);
    for (const protocol of protocols) {
      const behind = candidates.filter(w => routed.get(`${w.namespace}/${w.name}`)!.has(protocol as RouteProtocol));
      if (behind.length === 0 && candidates.length > 0) continue;
      for (const wl of behind.length > 0 ? behind : [undefined]) paths.push(northSouth(gw, wl, protocol));
    }
  }
  for (const wl of parsed.workloads) paths.push(traceEastWest(wl, ctx, gatewayHeaders.get(wl) ?? [], drawHops));
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

function traceNorthSouth(gw: TracedGateway, wl: WorkloadModel | undefined, protocol: string, ctx: TraceContext): PathTrace {
  const m = gw.model;
  const where = `gateway ${m.namespace}/${m.name}`;
  const honest = throughGateway(gw, protocol, ctx, []);
  const forged = resolveAtGateway(gw, protocol, ctx, ADDRESSES.forged);
  const findings = [...honest.findings];
  gatewayFindings(gw, protocol, honest, forged, findings, where);
  const gwLimitModels = rateLimitsOn(ctx.rateLimits, ProxyRole.GATEWAY, m.namespace, m.selector, ctx.rootNamespaces);
  const gwLimits = protocol === 'HTTP' ? rateLimitsAt(gwLimitModels, honest.clientAddress, forged.clientAddress) : [];
  gatewayRateLimitFindings(gwLimits, honest.addresses, where, findings);
  const hops: HopTrace[] = [{ hop: `client ${ADDRESSES.client}`, policies: [] }, ...withLastHopLimits(honest, gwLimits)];
  let appPeer = ADDRESSES.gatewayPod;
  let appXff = honest.forwardedFor;
  const gatewayIndex = hops.length - 1;
  const writers: HeaderWriter[] = protocol === 'HTTP' && m.clientAddressHeader !== undefined
    ? [{ header: m.clientAddressHeader, where, honest: honest.clientAddress, forged: forged.clientAddress }] : [];
  if (wl) {
    const wlWhere = `workload ${wl.namespace}/${wl.name}`;
    const proxied = ctx.proxyProtocolTo.get(`${wl.namespace}/${wl.name}`);
    const side = throughWorkload(wl, ADDRESSES.gatewayPod, honest.forwardedFor, honest.externalAddress, ctx, protocol, honest.headers,
      proxied ? honest.downstreamAddress : undefined);
    const sideForged = resolveAtWorkload(wl, ADDRESSES.gatewayPod, forged.forwardedFor, protocol, forged.headers,
      proxied ? forged.downstreamAddress : undefined);
    if (protocol === 'HTTP') bypassFindings(gw, wl, ctx, honest, findings, wlWhere);
    if (wl.xffMode === SidecarXffMode.TRUSTED_CIDRS && side.clientAddress === ADDRESSES.client) settleLowerBound(findings, where, wlWhere);
    const wlLimits = protocol === 'HTTP' ? workloadRateLimits(wl, side, sideForged, ctx) : [];
    behindGatewayRateLimitFindings(wlLimits, where, wlWhere, findings);
    const wlHeader = protocol === 'HTTP' && !side.rejected ? sidecarHeader(wl) : undefined;
    if (wlHeader !== undefined) writers.push({ header: wlHeader, where: wlWhere, honest: side.clientAddress, forged: sideForged.clientAddress });
    hops.push(...side.hops.map((h, i) => i === 0 ? withRateLimits(h, wlLimits) : h));
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
  headerFindings(writers, honest.addresses, findings);
  return {
    title: `north-south: ${where}${wl ? ` -> workload ${wl.namespace}/${wl.name}` : ''}`,
    direction: 'north-south',
    protocol,
    clientAddress: ADDRESSES.client,
    hops: withHeaderValues(hops, gatewayIndex, writers),
    appSocketPeer: appPeer,
    appHeaderClient: honest.externalAddress,
    findings,
  };
}

function traceEastWest(wl: WorkloadModel, ctx: TraceContext, gatewayHeaders: ReadonlyArray<{ gateway: string; header: string }>,
  drawHops: boolean): PathTrace {
  const where = `workload ${wl.namespace}/${wl.name}`;
  const peer = ADDRESSES.meshClientPod;
  // A DestinationRule with proxyProtocol makes every mesh caller send PROXY with its own address.
  const proxied = ctx.proxyProtocolTo.has(`${wl.namespace}/${wl.name}`) ? peer : undefined;
  // The same decision, with or without its hops (test/property/resolution-agreement.ts).
  const honest: WorkloadResolution & { readonly hops?: HopTrace[] } = drawHops
    ? throughWorkload(wl, peer, undefined, undefined, ctx, 'HTTP', undefined, proxied)
    : resolveAtWorkload(wl, peer, undefined, 'HTTP', undefined, proxied);
  const header = wl.xffMode === SidecarXffMode.CUSTOM_HEADER ? wl.clientHeaderName : undefined;
  const forgedHeaders = header ? { [header]: ADDRESSES.forged[3] } : undefined;
  const forged = resolveAtWorkload(wl, peer, ADDRESSES.forged.join(','), 'HTTP', forgedHeaders, proxied);
  const findings: Finding[] = [];
  const remotePolicies = policiesFor(ctx, wl.namespace, wl.selector).filter(p => p.field === ClientIpField.REMOTE_IP_BLOCKS);
  // A direct in-mesh caller chooses what the sidecar resolves: remoteIpBlocks there and the header it writes follow it.
  const forgeable = ADDRESSES.forged.includes(forged.clientAddress) && wl.role !== ProxyRole.AMBIENT;
  if (forgeable && remotePolicies.length > 0) {
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
  const limits = workloadRateLimits(wl, honest, forged, ctx);
  inMeshRateLimitFindings(limits, where, findings);
  inMeshHeaderFindings(wl, gatewayHeaders, forgeable, forged.clientAddress, header ?? 'X-Forwarded-For', findings, where);
  appFindings(wl, honest.appPeer, undefined, 'HTTP', findings, where, false);
  return {
    title: `east-west: pod ${peer} -> workload ${wl.namespace}/${wl.name}`,
    direction: 'east-west',
    protocol: 'HTTP',
    clientAddress: peer,
    hops: honest.hops ? eastWestHops(wl, peer, honest, honest.hops, limits) : [],
    appSocketPeer: honest.appPeer,
    findings,
  };
}

/** The hops of an east-west path: the calling pod, the workload's proxies (rate limits on the first), the app. */
function eastWestHops(wl: WorkloadModel, peer: string, honest: WorkloadResolution, proxyHops: HopTrace[],
  limits: ReturnType<typeof rateLimitsAt>): HopTrace[] {
  const appHeaders = honest.rejected ? undefined : eastWestHeaders(wl, honest.clientAddress);
  return [{ hop: `client pod ${peer}`, policies: [] }, ...proxyHops.map((h, i) => i === 0 ? withRateLimits(h, limits) : h),
    { hop: 'app', socketPeer: honest.appPeer, xForwardedFor: honest.forwardedFor, ...(appHeaders ? { clientAddressHeaders: appHeaders } : {}), policies: [] }];
}

/** The gateway's hops with its rate limits on the gateway hop (the last). */
function withLastHopLimits(step: GatewayStep, limits: ReturnType<typeof rateLimitsAt>): HopTrace[] {
  return step.hops.map((h, i) => i === step.hops.length - 1 ? withRateLimits(h, limits) : h);
}

/**
 * The rate limits of the workload's sidecar, with the keys of the honest and the forged request: none on a sidecar that
 * does not intercept, on ztunnel (L4), or on a waypoint (the library writes none for waypoints, and explain reads none).
 */
function workloadRateLimits(wl: WorkloadModel, honest: WorkloadResolution, forged: WorkloadResolution,
  ctx: TraceContext): ReturnType<typeof rateLimitsAt> {
  if (honest.rejected || wl.role !== ProxyRole.SIDECAR || wl.interceptionMode === InterceptionMode.NONE) return [];
  const limits = rateLimitsOn(ctx.rateLimits, ProxyRole.SIDECAR, wl.namespace, wl.selector, ctx.rootNamespaces);
  return rateLimitsAt(limits, honest.clientAddress, forged.clientAddress);
}
