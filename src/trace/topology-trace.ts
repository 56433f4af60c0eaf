import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { allTraceFindings, trace, TraceResult } from './app-trace';
import { WorkloadIndex } from './workload-index';
import { DEFAULT_ROOT_NAMESPACE } from '../envoy/names';
import { findingText } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { IstioVersion } from '../model/istio-version';
import { GatewayModel, ISourceIpTarget, ProxyProtocolVersion, WorkloadModel, XffFilterScope } from '../model/model';
import { selectorMatches } from '../model/selectors';
import { Topology } from '../model/topology';
import { addRoute, hostParts, RouteProtocol, TracedGateway, TraceModel } from '../model/trace-model';
import { TrustChain } from '../model/trust-chain';
import { clusterKeyOf } from '../util/duplicate-objects';
import { onWarningsRead, SourceIpWarnings } from '../util/warnings';

/*
 * The constructs' side of the one trace: the trace model the app's constructs add up to, the trace over it
 * (computed once per state of the topology), and its findings reported by the constructs whose objects they are
 * about: an ERROR as the construct's validation error, a WARNING as a SourceIpWarnings entry, with the same text
 * `explain` prints. A construct that changes a proxy joins with `joinTrace()` when it registers in the topology.
 */

/** A gateway construct as the trace reads it. @internal */
export interface TracedGatewayMember extends ISourceIpTarget {
  readonly istioVersion: IstioVersion;
  _tracedGateway(): TracedGateway;
  _routeBackends(): ReadonlyArray<{ readonly host: string; readonly protocol: RouteProtocol }>;
}

function isTracedGateway(g: ISourceIpTarget): g is TracedGatewayMember {
  return typeof (g as Partial<TracedGatewayMember>)._tracedGateway === 'function';
}

/** The trust chain declared in front of `target`, when it is an ingress gateway of this library that declares one. */
export function trustChainOf(target: ISourceIpTarget): TrustChain | undefined {
  return isTracedGateway(target) ? target._tracedGateway().trustChain : undefined;
}

/** Adds the trace's one app-wide check to the app of `scope`, once. */
export function joinTrace(scope: IConstruct): void {
  const topology = Topology.of(scope);
  topology.addAppValidationOnce('trace', () => {
    attachTraceReporters(topology);
    return [];
  });
  onWarningsRead(scope.node.root, () => reportedTrace(topology));
}

/**
 * One cluster of the app: its constructs and their trace. An app is one cluster, unless its charts are alternatives
 * (`CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY`), each applied to a cluster of its own: then each chart is one.
 */
export interface TracedCluster {
  /** The chart's path for alternatives, else "". */
  readonly key: string;
  readonly model: TraceModel;
  readonly result: TraceResult;
  /** The construct that speaks for each `where` of a finding (`gateway ns/name`, `workload ns/name`). */
  readonly owners: Map<string, IConstruct>;
}

/** The traces of the app's constructs, one per cluster, computed once per state of the topology. */
export function topologyTraces(topology: Topology): TracedCluster[] {
  return topology.derive('trace', () => {
    const services = serviceSelectors(topology, clusterKeyOf);
    const keys = [...new Set([...topology.gateways, ...topology.workloads, ...topology.policies, ...topology.xffFilters].map(clusterKeyOf))];
    return keys.map(key => {
      const model = buildTraceModel(topology, c => clusterKeyOf(c) === key, services.get(key) ?? new Map());
      return { key, model, result: trace(model), owners: ownersByWhere(topology, c => clusterKeyOf(c) === key) };
    });
  });
}

/** The trace of the cluster `construct` belongs to. */
export function traceOf(construct: IConstruct): TracedCluster | undefined {
  const key = clusterKeyOf(construct);
  return topologyTraces(Topology.of(construct)).find(t => t.key === key);
}

/** The path findings of the traces by the construct they are about; warnings are recorded on the way. */
function reportedTrace(topology: Topology): Map<IConstruct, string[]> {
  return topology.derive('trace-errors', () => {
    const errors = new Map<IConstruct, string[]>();
    for (const cluster of topologyTraces(topology)) {
      for (const f of constructFindings(cluster.result)) {
        const owner = cluster.owners.get(f.where);
        if (owner === undefined) continue;
        if (f.severity === FindingSeverity.WARNING) SourceIpWarnings.add(owner, findingText(f));
        if (f.severity === FindingSeverity.ERROR) errors.set(owner, [...(errors.get(owner) ?? []), findingText(f)]);
      }
    }
    return errors;
  });
}

/**
 * The findings the constructs report from the trace: those of its paths (what each hop sees). The findings of the
 * shared checks (policies, filters, gateway ports, health checks) are reported by the constructs those checks are
 * about, through their own validation, with the same functions.
 */
export function constructFindings(result: TraceResult): Finding[] {
  return allTraceFindings({ paths: result.paths, findings: [] }).filter(f => f.severity !== FindingSeverity.INFO);
}

const REPORTING = new WeakSet<IConstruct>();

/** Gives every construct the trace finds errors about a validation that reports them (once). */
function attachTraceReporters(topology: Topology): void {
  for (const construct of reportedTrace(topology).keys()) {
    if (REPORTING.has(construct)) continue;
    REPORTING.add(construct);
    construct.node.addValidation({ validate: () => reportedTrace(topology).get(construct) ?? [] });
  }
}

/** The construct that speaks for each `where` of a finding: the gateway or workload construct of that name. */
function ownersByWhere(topology: Topology, inCluster: (c: IConstruct) => boolean): Map<string, IConstruct> {
  const owners = new Map<string, IConstruct>();
  for (const g of topology.gateways.filter(inCluster)) {
    const m = g.gatewayModel();
    if (m && !owners.has(`gateway ${m.namespace}/${m.name}`)) owners.set(`gateway ${m.namespace}/${m.name}`, g);
  }
  for (const w of topology.workloads.filter(inCluster)) {
    const m = w.workloadModel();
    if (m && !owners.has(`workload ${m.namespace}/${m.name}`)) owners.set(`workload ${m.namespace}/${m.name}`, w);
  }
  return owners;
}

function buildTraceModel(topology: Topology, inCluster: (c: IConstruct) => boolean, services: Map<string, unknown>): TraceModel {
  const members = {
    gateways: topology.gateways.filter(inCluster),
    workloads: topology.workloads.filter(inCluster),
    backends: topology.proxyProtocolBackends.filter(inCluster),
    filters: topology.xffFilters.filter(inCluster),
  };
  const gateways = members.gateways.flatMap(g => tracedGateway(g));
  const podLabels = new Map<WorkloadModel, { readonly [key: string]: string }>();
  const workloads = members.workloads.flatMap(w => {
    const model = w.workloadModel();
    if (model === undefined) return [];
    // A Service selects the pods by any of their labels (cdk8s-plus adds its own), not only by the workload's selector.
    if (w.podLabels !== undefined) podLabels.set(model, { ...w.podLabels, ...model.selector });
    return [model];
  });
  const index = new WorkloadIndex(workloads, (namespace, name) => services.get(`${namespace}/${name}`), w => podLabels.get(w) ?? w.selector);
  const routes = new Map<string, Map<string, Set<RouteProtocol>>>();
  for (const g of members.gateways) {
    if (!isTracedGateway(g) || g._routeBackends().length === 0) continue;
    const m = g.gatewayModel()!;
    const key = `${m.namespace}/${m.name}`;
    routes.set(key, new Map());
    for (const { host, protocol } of g._routeBackends()) {
      const [name, ns] = hostParts(host, m.namespace);
      index.behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
    }
  }
  const proxyProtocolTo = new Map<string, ProxyProtocolVersion>();
  for (const b of members.backends) {
    for (const w of workloads) {
      if (w.namespace === b.targetNamespace && selectorMatches(b.targetSelector, w.selector)) proxyProtocolTo.set(`${w.namespace}/${w.name}`, b.version);
    }
  }
  const filters = members.filters;
  // The newest release a gateway is rendered for, as the parser reads the gateways' annotations.
  const newest = members.gateways.filter(isTracedGateway).map(g => g.istioVersion).sort((a, b) => b.minor - a.minor)[0];
  return {
    rootNamespaces: [...new Set([DEFAULT_ROOT_NAMESPACE, ...filters.filter(f => f.scope === XffFilterScope.MESH).map(f => f.rootNamespace)])],
    ...(newest ? { istioVersion: newest } : {}),
    proxyProtocolTo,
    gateways,
    workloads,
    policies: topology.policies.filter(inCluster).map(p => p.policyModel()),
    waypoints: topology.waypoints.filter(inCluster).map(w => w.waypointModel()),
    routes,
    workloadsOfService: (namespace, name) => index.behind(name, namespace),
    xffFilters: filters.map(f => f._xffFilterModel()),
  };
}

function tracedGateway(g: ISourceIpTarget): TracedGateway[] {
  if (isTracedGateway(g)) return [g._tracedGateway()];
  const model: GatewayModel | undefined = g.gatewayModel();
  if (!model) return [];
  return [{
    model,
    loadBalancerSendsProxyProtocol: false,
    loadBalancerSendsProxyProtocolOnEveryPort: false,
    proxyProtocolTwice: false,
    gatewayResources: [],
    agentEnvKnown: false,
    serviceAnnotations: {},
  }];
}

/** Per cluster, the selectors of its Services by `namespace/name` (the first of duplicates), as the parser reads them. */
function serviceSelectors(topology: Topology, keyOf: (c: IConstruct) => string): Map<string, Map<string, unknown>> {
  const byCluster = new Map<string, Map<string, unknown>>();
  for (const c of topology.root.node.findAll()) {
    if (!ApiObject.isApiObject(c) || c.kind !== 'Service' || c.apiVersion !== 'v1') continue;
    const json = c.toJson();
    const key = `${json.metadata?.namespace ?? 'default'}/${json.metadata?.name}`;
    let selectors = byCluster.get(keyOf(c));
    if (!selectors) {
      selectors = new Map();
      byCluster.set(keyOf(c), selectors);
    }
    if (!selectors.has(key)) selectors.set(key, json.spec?.selector);
  }
  return byCluster;
}
