import { IConstruct } from 'constructs';
import { Explainer, FindingSeverity, GatewayModel, ISourceIpTarget, PolicyModel, SourceIpWarnings, WorkloadModel } from '../../src';
import { parseManifests } from '../../src/explain/manifest-parser';
import { filterReaches } from '../../src/mesh/workload-model';
import { selectorMatches } from '../../src/model/selectors';
import { Topology } from '../../src/model/topology';
import { l1ConversionChanges } from '../harness/l1-conversion';

/*
 * The round trip: what `explain` parses from the synthesised YAML is the topology the constructs built, and
 * `explain` raises no ERROR on output the constructs accepted. Used on every accepted case of the property
 * suite and on the example app, which also shows that the objects the library renders without their L1 class are
 * what the L1 would have rendered.
 */

/** Counts of what the round trip compared, for the suite's summary. */
export const roundTripCounter = { apps: 0, gateways: 0, workloads: 0, policies: 0 };

function gatewayEssentials(g: GatewayModel): object {
  return {
    externalTrafficPolicy: g.externalTrafficPolicy,
    loadBalancerPreservesSource: g.loadBalancerPreservesSource,
    numTrustedProxies: g.numTrustedProxies,
    proxyProtocol: g.proxyProtocol,
    proxyProtocolPorts: g.proxyProtocolPorts,
    serviceName: g.serviceName,
    servers: g.servers.map(s => ({ port: s.port, protocol: s.protocol, hosts: s.hosts, tlsMode: s.tlsMode, targetPort: s.targetPort ?? s.port })),
  };
}

function workloadEssentials(w: WorkloadModel): object {
  return {
    role: w.role,
    interceptionMode: w.interceptionMode,
    xffMode: w.xffMode,
    xffTrustedHops: w.xffTrustedHops,
    xffTrustedCidrs: w.xffTrustedCidrs,
    xffPorts: w.xffPorts ?? [],
    proxyProtocolOnEveryPort: w.proxyProtocolOnEveryPort === true,
    waypoint: w.waypoint,
    ingressUseWaypoint: w.ingressUseWaypoint === true,
  };
}

function policyEssentials(p: PolicyModel): object {
  return {
    action: p.action,
    field: p.field,
    negated: p.negated,
    cidrs: p.cidrs,
    selector: p.selector,
    targetRefs: p.targetRefs ?? [],
    ports: p.ports ?? [],
    matchesHttpAttributes: p.matchesHttpAttributes === true,
  };
}

function key(m: { namespace: string; name: string }): string {
  return `${m.namespace}/${m.name}`;
}

/**
 * Throws with the first difference between the topology the constructs under `scope` (a chart or an app) built
 * and what explain reads from `manifests` (their synthesised objects), or on an explain ERROR they did not raise.
 */
export function assertRoundTrip(scope: IConstruct, manifests: any[]): void {
  const topology = Topology.of(scope);
  const under = (c: IConstruct) => c.node.scopes.includes(scope);
  const built = {
    gateways: topology.gateways.filter(under).flatMap(g => g.gatewayModel() ?? []),
    workloads: topology.workloads.filter(under).flatMap(w => w.workloadModel() ?? []),
    policies: topology.policies.filter(under).map(p => p.policyModel()),
  };
  // The objects the library renders without their L1 class come out as the L1 would have rendered them.
  const conversionChanges = l1ConversionChanges(scope);
  if (conversionChanges.length > 0) throw new Error(`library manifests differ from their L1 rendering:\n  ${conversionChanges.join('\n  ')}`);
  const parsed = parseManifests(manifests);
  roundTripCounter.apps++;
  for (const gateway of built.gateways) {
    const back = parsed.gateways.find(g => key(g.model) === key(gateway));
    if (!back) throw new Error(`round trip: gateway ${key(gateway)} is not found by explain (found ${parsed.gateways.map(g => key(g.model)).join(', ') || 'none'})`);
    expectSame(`gateway ${key(gateway)}`, gatewayEssentials(back.model), gatewayEssentials(gateway));
    if (!selectorMatches(gateway.selector, back.model.selector)) throw new Error(`round trip: gateway ${key(gateway)} selector differs`);
    roundTripCounter.gateways++;
  }
  for (const workload of built.workloads) {
    const back = parsed.workloads.find(w => key(w) === key(workload));
    // A MeshWorkload renders nothing: its pods are not in the output.
    if (!back) {
      if (manifests.some(m => m.metadata?.name === workload.name && m.metadata?.namespace === workload.namespace && m.spec?.template)) {
        throw new Error(`round trip: workload ${key(workload)} is in the output but not found by explain`);
      }
      continue;
    }
    expectSame(`workload ${key(workload)}`, workloadEssentials(back), workloadEssentials(workload));
    roundTripCounter.workloads++;
  }
  for (const policy of built.policies.filter(p => p.cidrs.length > 0)) {
    const back = parsed.policies.filter(p => key(p) === key(policy));
    if (back.length !== 1) throw new Error(`round trip: policy ${key(policy)} reads back as ${back.length} rules`);
    expectSame(`policy ${key(policy)}`, policyEssentials(back[0]), policyEssentials(policy));
    roundTripCounter.policies++;
  }
  const errors = Explainer.fromManifests(manifests).allFindings()
    .filter(f => f.severity === FindingSeverity.ERROR && !warnedAbout(scope, f.where));
  if (errors.length > 0) {
    throw new Error(`round trip: explain raises errors the constructs did not raise:\n  ${errors.map(e => `${e.where}: ${e.message}`).join('\n  ')}`);
  }
}

/**
 * True when synthesis raised the problem too: the construct that built the object explain names (`gateway ns/name`,
 * `workload ns/name`) recorded a warning. Explain errors on anything else are never allowed.
 */
function warnedAbout(scope: IConstruct, where: string): boolean {
  const topology = Topology.of(scope);
  const [kind, name] = where.split(' ');
  const targets: ISourceIpTarget[] = kind === 'gateway'
    ? topology.gateways.filter(g => { const m = g.gatewayModel(); return m !== undefined && key(m) === name; })
    : kind === 'workload'
      ? topology.workloads.filter(w => { const m = w.workloadModel(); return m !== undefined && key(m) === name; })
      : [];
  // The target, the policies on it and the XffSidecarFilters that reach it all speak for it.
  if (kind === 'AuthorizationPolicy') {
    return topology.policies.some(p => { const m = p.policyModel(); return key(m) === name && SourceIpWarnings.of(p).length > 0; });
  }
  const owners: IConstruct[] = [
    ...targets,
    ...topology.policies.filter(p => targets.includes(p.target)),
    ...topology.xffFilters.filter(f => targets.some(t => filterReaches(f, t.targetNamespace, t.targetSelector))),
  ];
  return owners.some(o => SourceIpWarnings.of(o).length > 0);
}

/** JSON with object keys sorted (label maps compare as maps). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v);
}

function expectSame(what: string, parsed: object, built: object): void {
  const a = canonical(parsed);
  const b = canonical(built);
  if (a !== b) throw new Error(`round trip: ${what} differs\n  explain:    ${a}\n  constructs: ${b}`);
}
