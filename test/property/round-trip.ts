import { IConstruct } from 'constructs';
import { assertResolutionsAgree } from './resolution-agreement';
import { Explainer, Finding, FindingSeverity } from '../../src';
import { parseManifests } from '../../src/explain/manifest-parser';
import { WorkloadModel } from '../../src/model/model';
import { selectorMatches } from '../../src/model/selectors';
import { Topology } from '../../src/model/topology';
import { TracedGateway, TraceModel } from '../../src/model/trace-model';
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

/** Drops undefined fields, empty lists and false flags: both sides write "none" in either way. */
function normal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normal);
  if (value instanceof Map) return normal(Object.fromEntries([...value].map(([k, v]) => [k, v instanceof Set ? [...v].sort() : normal(v)])));
  if (value instanceof Set) return [...value].map(normal).sort();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => [k, normal(v)]));
  }
  return value;
}

/** A gateway of the trace model as both sides must agree on it (the trust chain as its annotation text). */
function gatewayOf(g: TracedGateway): object {
  const { trustChain, statusPortProxyProtocolEnv, agentEnvKnown, ...facts } = g;
  return normal({
    ...facts,
    model: { ...g.model, selector: undefined, servers: g.model.servers.map(s => ({ ...s, targetPort: s.targetPort ?? s.port })) },
    gatewayResources: [...g.gatewayResources].sort(),
    trustChain: trustChain?.toAnnotationValue(),
    // Where the variable is set is the parser's to say; what it is set to, both sides'.
    statusPortProxyProtocol: statusPortProxyProtocolEnv?.value,
  }) as object;
}

/** A workload as both sides must agree on it; the parser's selector is every pod label, so it is compared apart. */
function workloadOf(w: WorkloadModel): object {
  return normal({ ...w, selector: undefined }) as object;
}

/** Which workloads a gateway routes to with which protocols, for the workloads and gateways the constructs built. */
function routesOf(m: TraceModel, gateways: Set<string>, workloads: Set<string>): object {
  const out: { [gateway: string]: { [workload: string]: string[] } } = {};
  for (const [gateway, byWorkload] of m.routes) {
    if (!gateways.has(gateway)) continue;
    out[gateway] = Object.fromEntries([...byWorkload].filter(([w]) => workloads.has(w)).map(([w, p]) => [w, [...p].sort()]));
  }
  return out;
}

function key(m: { namespace: string; name: string }): string {
  return `${m.namespace}/${m.name}`;
}

/** The constructs' trace model of the cluster(s) `scope` belongs to, restricted to what the constructs under it built. */
function builtModels(scope: IConstruct): TraceModel[] {
  const topology = Topology.of(scope);
  const under = (c: IConstruct) => c.node.scopes.includes(scope);
  return topologyTraces(topology).filter(t => [...t.owners.values()].some(under)).map(t => t.model);
}

/**
 * The whole trace model: what explain reads from `manifests` is the model the constructs under `scope` built, for
 * every gateway, workload, policy, waypoint, route, PROXY sender, XFF filter and rate limit they made.
 */
function assertSameModel(scope: IConstruct, parsed: TraceModel, manifests: any[]): void {
  for (const built of builtModels(scope)) {
    for (const gateway of built.gateways) {
      const back = parsed.gateways.find(g => key(g.model) === key(gateway.model));
      if (!back) throw new Error(`round trip: gateway ${key(gateway.model)} is not found by explain (found ${parsed.gateways.map(g => key(g.model)).join(', ') || 'none'})`);
      expectSame(`gateway ${key(gateway.model)}`, gatewayOf(back), gatewayOf(gateway));
      if (!selectorMatches(gateway.model.selector, back.model.selector)) throw new Error(`round trip: gateway ${key(gateway.model)} selector differs`);
      roundTripCounter.gateways++;
    }
    const found = new Set<string>();
    for (const workload of built.workloads) {
      const back = parsed.workloads.find(w => key(w) === key(workload));
      // A MeshWorkload renders nothing: its pods are not in the output.
      if (!back) {
        if (manifests.some(m => m.metadata?.name === workload.name && m.metadata?.namespace === workload.namespace && m.spec?.template)) {
          throw new Error(`round trip: workload ${key(workload)} is in the output but not found by explain`);
        }
        continue;
      }
      found.add(key(workload));
      expectSame(`workload ${key(workload)}`, workloadOf(back), workloadOf(workload));
      if (!selectorMatches(workload.selector, back.selector)) throw new Error(`round trip: workload ${key(workload)}: explain's pod labels lack its selector`);
      roundTripCounter.workloads++;
    }
    for (const policy of built.policies) {
      const back = parsed.policies.filter(p => key(p) === key(policy));
      // A policy without CIDRs matches no client address: explain does not read it as a rule on one.
      if (policy.cidrs.length === 0) continue;
      if (back.length !== 1) throw new Error(`round trip: policy ${key(policy)} reads back as ${back.length} rules`);
      expectSame(`policy ${key(policy)}`, normal(back[0]) as object, normal(policy) as object);
      roundTripCounter.policies++;
    }
    for (const waypoint of built.waypoints) {
      const back = parsed.waypoints.find(w => key(w) === key(waypoint));
      if (!back) throw new Error(`round trip: waypoint ${key(waypoint)} is not found by explain`);
      expectSame(`waypoint ${key(waypoint)}`, normal(back) as object, normal(waypoint) as object);
    }
    const gateways = new Set(built.gateways.map(g => key(g.model)));
    expectSame('routes', routesOf(parsed, gateways, found), routesOf(built, gateways, found));
    const pp = (m: TraceModel) => Object.fromEntries([...m.proxyProtocolTo].filter(([w]) => found.has(w)));
    expectSame('PROXY senders', pp(parsed), pp(built));
    const filters = (m: TraceModel) => normal([...m.xffFilters].sort((a, b) => key(a).localeCompare(key(b)))) as object;
    expectSame('XFF filters', filters(parsed), filters(built));
    const limits = (m: TraceModel) => normal([...m.rateLimits].sort((a, b) => key(a).localeCompare(key(b)))) as object;
    expectSame('rate limits', limits(parsed), limits(built));
    expectSame('root namespaces', [...parsed.rootNamespaces].sort(), [...built.rootNamespaces].sort());
    expectSame('Istio release', { v: parsed.istioVersion?.label }, { v: built.istioVersion?.label });
  }
}

/**
 * Throws with the first difference between the topology the constructs under `scope` (a chart or an app) built
 * and what explain reads from `manifests` (their synthesised objects), or on an explain ERROR they did not raise.
 */
export function assertRoundTrip(scope: IConstruct, manifests: any[]): void {
  // The objects the library renders without their L1 class come out as the L1 would have rendered them.
  const conversionChanges = l1ConversionChanges(scope);
  if (conversionChanges.length > 0) throw new Error(`library manifests differ from their L1 rendering:\n  ${conversionChanges.join('\n  ')}`);
  const parsed = parseManifests(manifests);
  roundTripCounter.apps++;
  assertSameModel(scope, parsed, manifests);
  assertResolutionsAgree(parsed);
  // One trace: explain's findings about the gateways and workloads the constructs built are the constructs' own (same
  // severity, object, message and fix), and explain raises no ERROR anywhere that the constructs did not raise.
  const report = Explainer.fromManifests(manifests);
  const constructSide = constructTraceFindings(scope);
  const found = new Set([...parsed.gateways.map(g => `gateway ${key(g.model)}`), ...parsed.workloads.map(w => `workload ${key(w)}`),
    ...parsed.waypoints.map(w => `waypoint ${key(w)}`)]);
  const owned = new Set([...constructSide.owned].filter(w => found.has(w)));
  const fullTrace = constructFindings(trace(parsed));
  const explainSide = fullTrace.filter(f => owned.has(f.where)).map(findingKey);
  // The constructs' own trace draws no east-west hops: it must find exactly what the full trace finds, in order.
  expectSame('trace findings without hops', constructFindings(trace(parsed, undefined, { hops: false })).map(findingKey), fullTrace.map(findingKey));
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
