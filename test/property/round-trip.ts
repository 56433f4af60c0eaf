import { IConstruct } from 'constructs';
import { Explainer, Finding, FindingSeverity, GatewayModel, PolicyModel, WorkloadModel } from '../../src';
import { parseManifests } from '../../src/explain/manifest-parser';
import { selectorMatches } from '../../src/model/selectors';
import { Topology } from '../../src/model/topology';
import { trace } from '../../src/trace/app-trace';
import { constructFindings, topologyTraces } from '../../src/trace/topology-trace';
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
  // One trace: explain's findings about the gateways and workloads the constructs built are the constructs' own (same
  // severity, object, message and fix), and explain raises no ERROR anywhere that the constructs did not raise.
  const report = Explainer.fromManifests(manifests);
  const constructSide = constructTraceFindings(scope);
  const found = new Set([...parsed.gateways.map(g => `gateway ${key(g.model)}`), ...parsed.workloads.map(w => `workload ${key(w)}`),
    ...parsed.waypoints.map(w => `waypoint ${key(w)}`)]);
  const owned = new Set([...constructSide.owned].filter(w => found.has(w)));
  const explainSide = constructFindings(trace(parsed)).filter(f => owned.has(f.where)).map(findingKey);
  const expected = constructSide.findings.filter(f => owned.has(f.where)).map(findingKey);
  expectSame('trace findings', [...new Set(explainSide)].sort(), [...new Set(expected)].sort());
  const constructKeys = new Set(constructSide.findings.map(findingKey));
  const errors = report.allFindings().filter(f => f.severity === FindingSeverity.ERROR && !constructKeys.has(findingKey(f)));
  if (errors.length > 0) {
    throw new Error(`round trip: explain raises errors the constructs did not raise:\n  ${errors.map(e => `${e.where}: ${e.message}`).join('\n  ')}`);
  }
}

function findingKey(f: Finding): string {
  return `${f.severity} ${f.where}: ${f.message}; ${f.fix}`;
}

/** The findings the constructs under `scope` report from the trace, and the objects (`gateway ns/name`, ...) they own. */
function constructTraceFindings(scope: IConstruct): { findings: Finding[]; owned: Set<string> } {
  const under = (c: IConstruct) => c.node.scopes.includes(scope);
  const findings: Finding[] = [];
  const owned = new Set<string>();
  for (const cluster of topologyTraces(Topology.of(scope))) {
    const mine = [...cluster.owners].filter(([, owner]) => under(owner)).map(([where]) => where);
    if (mine.length === 0) continue;
    mine.forEach(w => owned.add(w));
    findings.push(...constructFindings(cluster.result).filter(f => mine.includes(f.where)));
  }
  return { findings, owned };
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
