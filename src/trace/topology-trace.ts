import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import type * as AppTrace from './app-trace';
import { WorkloadIndex } from './workload-index';
import { DEFAULT_ROOT_NAMESPACE } from '../envoy/names';
import { findingText } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { IstioVersion } from '../model/istio-version';
import { ISourceIpTarget, ProxyProtocolVersion, WorkloadModel } from '../model/model';
import { selectorMatches } from '../model/selectors';
import { Derived, Topology } from '../model/topology';
import { addRoute, hostParts, RouteProtocol, TracedGateway, TraceModel } from '../model/trace-model';
import { TrustChain } from '../model/trust-chain';
import { clusterKeyOf } from '../util/duplicate-objects';
import { LibraryManifest } from '../util/library-manifest';
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
  onWarningsRead(topology.root, () => reportedTrace(topology));
}

/**
 * One cluster of the app: its constructs and their trace. An app is one cluster, unless its charts are alternatives
 * (`CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY`), each applied to a cluster of its own: then each chart is one.
 */
export interface TracedCluster {
  /** The chart's path for alternatives, else "". */
  readonly key: string;
  readonly model: TraceModel;
  readonly result: AppTrace.TraceResult;
  /** The construct that speaks for each `where` of a finding (`gateway ns/name`, `workload ns/name`). */
  readonly owners: Map<string, IConstruct>;
}

/** The traces of the app's constructs, one per cluster, computed once per state of the topology. */
export function topologyTraces(topology: Topology): TracedCluster[] {
  return topology.derive(TRACES, () => traceClusters(topology, true));
}

/**
 * The traces of the app's constructs, one per cluster (not kept: see `reportedTrace`); without `drawHops`, the paths
 * of each workload's own (east-west) have no hops, which the constructs never read.
 */
function traceClusters(topology: Topology, drawHops: boolean): TracedCluster[] {
  // The app's Services are read only when a route, a PROXY sender or a policy's targetRef needs one.
  const services = (key: string): Map<string, unknown> => serviceSelectors(topology, clusterKeyOf).get(key) ?? NO_SERVICES;
  const members = [...topology.gateways, ...topology.workloads, ...topology.policies, ...topology.xffFilters, ...topology.rateLimits];
  const keys = [...new Set(members.map(clusterKeyOf))];
  return keys.map(key => {
    const inCluster = (c: IConstruct) => clusterKeyOf(c) === key;
    const model = buildTraceModel(topology, inCluster, () => services(key),
      () => podTemplateLabels(topology, clusterKeyOf).get(key) ?? []);
    const result = appTrace().trace(model, undefined, { checks: false, hops: drawHops });
    return { key, model, result, owners: ownersByWhere(topology, inCluster) };
  });
}

/**
 * The model and trace of the constructs `inCluster` picks, taken as one cluster whatever the app's clusters are: the
 * conformance stage's expectation for an object set made of some of the app's charts. Not cached. @internal
 */
export function traceConstructs(topology: Topology, inCluster: (c: IConstruct) => boolean):
{ readonly model: TraceModel; readonly result: AppTrace.TraceResult } {
  const keyOf = (c: IConstruct) => inCluster(c) ? 'in' : 'out';
  const model = buildTraceModel(topology, inCluster, () => readServiceSelectors(topology, keyOf).get('in') ?? NO_SERVICES,
    () => readPodTemplateLabels(topology, keyOf).get('in') ?? []);
  return { model, result: appTrace().trace(model, undefined, { checks: false }) };
}

/**
 * The path findings of the traces by the construct they are about; warnings are recorded on the way. Only the
 * findings are kept for the state of the topology: the paths are garbage once they are read, so that a large app does
 * not carry them through the rest of its synthesis (every collection would mark them again).
 */
function reportedTrace(topology: Topology): Map<IConstruct, string[]> {
  return topology.derive(TRACE_ERRORS, () => {
    const errors = new Map<IConstruct, string[]>();
    for (const cluster of topology.derived(TRACES) ?? traceClusters(topology, false)) {
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
 * The findings the constructs report from the trace: those of its walk (what each hop sees). The findings of the
 * shared checks (policies, filters, gateway ports, health checks) are reported by the constructs those checks are
 * about, through their own validation, with the same functions.
 */
export function constructFindings(result: AppTrace.TraceResult): Finding[] {
  // INFO findings are left out before the duplicates are, not after: the answer is the same, with fewer keys to build.
  return appTrace().allTraceFindings({ paths: result.paths, findings: result.findings, checks: [] }, f => f.severity !== FindingSeverity.INFO);
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
    const m = g._gatewayModel();
    if (m && !owners.has(`gateway ${m.namespace}/${m.name}`)) owners.set(`gateway ${m.namespace}/${m.name}`, g);
  }
  for (const w of topology.workloads.filter(inCluster)) {
    const m = w._workloadModel();
    if (m && !owners.has(`workload ${m.namespace}/${m.name}`)) owners.set(`workload ${m.namespace}/${m.name}`, w);
  }
  for (const w of topology.waypoints.filter(inCluster)) {
    const m = w._waypointModel();
    if (!owners.has(`waypoint ${m.namespace}/${m.name}`)) owners.set(`waypoint ${m.namespace}/${m.name}`, w);
  }
  return owners;
}

function buildTraceModel(topology: Topology, inCluster: (c: IConstruct) => boolean, services: () => Map<string, unknown>,
  pods: () => readonly PodLabels[]): TraceModel {
  const members = {
    gateways: topology.gateways.filter(inCluster),
    workloads: topology.workloads.filter(inCluster),
    backends: topology.proxyProtocolBackends.filter(inCluster),
    filters: topology.xffFilters.filter(inCluster),
  };
  // Only the library's gateways register as gateways (IngressGatewayBase), and each knows its facts.
  const gateways = members.gateways.filter(isTracedGateway).map(g => g._tracedGateway());
  const podLabels = new Map<WorkloadModel, { readonly [key: string]: string }>();
  const workloads = members.workloads.flatMap(w => {
    const model = w._workloadModel();
    if (model === undefined) return [];
    // A Service selects the pods by any of their labels (cdk8s-plus adds its own), not only by the workload's selector.
    const labels = w.podLabels;
    // Most pods carry their selector's labels already: then the pod labels are the union.
    if (labels !== undefined) podLabels.set(model, selectorMatches(model.selector, labels) ? labels : Object.assign({}, labels, model.selector));
    return [model];
  });
  // Made when a route or a policy's targetRef first asks what is behind a Service: most apps of workloads never do.
  let index: WorkloadIndex | undefined;
  // A Service that selects pods by a label the workload construct does not know (cdk8s-plus's own): follow it to the
  // app's pod templates, and from those to the workloads whose selector picks them, as explain does.
  const behind = (name: string, namespace: string): WorkloadModel[] => {
    index ??= new WorkloadIndex(workloads, (ns, n) => services().get(`${ns}/${n}`), w => podLabels.get(w) ?? w.selector);
    const direct = index.behind(name, namespace);
    const selector = services().get(`${namespace}/${name}`);
    if (direct.length > 0 || selector === null || typeof selector !== 'object' || Array.isArray(selector)) return direct;
    const selected = pods().filter(p => p.namespace === namespace && selectorMatches(selector as { [key: string]: string }, p.labels));
    return workloads.filter(w => w.namespace === namespace && selected.some(p => selectorMatches(w.selector, p.labels)));
  };
  const routes = new Map<string, Map<string, Set<RouteProtocol>>>();
  for (const g of members.gateways) {
    if (!isTracedGateway(g) || g._routeBackends().length === 0) continue;
    const m = g._gatewayModel()!;
    const key = `${m.namespace}/${m.name}`;
    routes.set(key, new Map());
    for (const { host, protocol } of g._routeBackends()) {
      const [name, ns] = hostParts(host, m.namespace);
      behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
    }
  }
  const proxyProtocolTo = new Map<string, ProxyProtocolVersion>();
  for (const b of members.backends) {
    for (const w of workloads) {
      if (w.namespace === b.targetNamespace && selectorMatches(b.targetSelector, w.selector)) proxyProtocolTo.set(`${w.namespace}/${w.name}`, b.version);
    }
  }
  const filters = members.filters;
  // The mesh's root namespaces as the output names them: Istio's default, and every filter standing in its root.
  const rootNamespaces = [...new Set([DEFAULT_ROOT_NAMESPACE, ...filters.filter(f => f.namespace === f.rootNamespace).map(f => f.rootNamespace)])];
  // The newest release a gateway is rendered for, as the parser reads the gateways' annotations.
  const newest = members.gateways.filter(isTracedGateway).map(g => g.istioVersion).sort((a, b) => b.minor - a.minor)[0];
  return {
    rootNamespaces,
    ...(newest ? { istioVersion: newest } : {}),
    proxyProtocolTo,
    gateways,
    workloads,
    policies: topology.policies.filter(inCluster).map(p => p._policyModel()),
    waypoints: topology.waypoints.filter(inCluster).map(w => w._waypointModel()),
    routes,
    workloadsOfService: (namespace, name) => behind(name, namespace),
    namespaceWaypoints: new Map(topology.ambientNamespaces.filter(inCluster)
      .flatMap(n => (n.waypoint !== undefined ? [[n.namespaceName, n.waypoint] as const] : []))),
    // As the output says it: a filter's root namespace is known only where it stands in it (the library's annotation).
    xffFilters: filters.map(f => f._xffFilterModel())
      .map(f => Object.assign({}, f, { rootNamespace: rootNamespaces.includes(f.namespace) ? f.namespace : DEFAULT_ROOT_NAMESPACE })),
    rateLimits: topology.rateLimits.filter(inCluster).map(r => r._rateLimitModel()),
  };
}


/** The labels of a pod template of the app, in its namespace. */
interface PodLabels {
  readonly namespace: string;
  readonly labels: { readonly [key: string]: string };
}

/** The kinds whose pods a Service may select (as the parser reads them). */
const POD_TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Pod'];

/** Per cluster, the pod labels of the app's workloads, read once per state of the topology and only when needed. */
function podTemplateLabels(topology: Topology, keyOf: (c: IConstruct) => string): Map<string, PodLabels[]> {
  return topology.derive(POD_TEMPLATE_LABELS, () => readPodTemplateLabels(topology, keyOf));
}

function readPodTemplateLabels(topology: Topology, keyOf: (c: IConstruct) => string): Map<string, PodLabels[]> {
  const byCluster = new Map<string, PodLabels[]>();
  for (const c of topology.apiObjects()) {
    if (!POD_TEMPLATE_KINDS.includes(c.kind)) continue;
    const json = c.toJson();
    const labels = c.kind === 'Pod' ? json.metadata?.labels : json.spec?.template?.metadata?.labels;
    if (labels === null || typeof labels !== 'object') continue;
    const list = byCluster.get(keyOf(c)) ?? [];
    list.push({ namespace: json.metadata?.namespace ?? 'default', labels });
    byCluster.set(keyOf(c), list);
  }
  return byCluster;
}

/** Per cluster, the selectors of its Services by `namespace/name` (the first of duplicates), as the parser reads them. */
function serviceSelectors(topology: Topology, keyOf: (c: IConstruct) => string): Map<string, Map<string, unknown>> {
  return topology.derive(SERVICE_SELECTORS, () => readServiceSelectors(topology, keyOf));
}

function readServiceSelectors(topology: Topology, keyOf: (c: IConstruct) => string): Map<string, Map<string, unknown>> {
  const byCluster = new Map<string, Map<string, unknown>>();
  for (const c of topology.apiObjects()) {
    if (c.kind !== 'Service' || c.apiVersion !== 'v1') continue;
    const { key, selector } = plainServiceSelector(c) ?? serviceSelectorOf(c.toJson());
    let selectors = byCluster.get(keyOf(c));
    if (!selectors) {
      selectors = new Map();
      byCluster.set(keyOf(c), selectors);
    }
    if (!selectors.has(key)) selectors.set(key, selector);
  }
  return byCluster;
}

function serviceSelectorOf(json: any): { key: string; selector: unknown } {
  return { key: `${json.metadata?.namespace ?? 'default'}/${json.metadata?.name}`, selector: json.spec?.selector };
}

/**
 * A library Service's selector as the library wrote it, when it is plain strings and nothing patched the Service:
 * what `toJson()` would give, without resolving the manifest (a gateway's synthesis reads every Service of the app).
 */
function plainServiceSelector(c: ApiObject): { key: string; selector: unknown } | undefined {
  const spec = LibraryManifest._writtenSpecOf(c) as { selector?: unknown } | undefined;
  const selector = spec?.selector;
  if (selector === null || typeof selector !== 'object' || Array.isArray(selector) || Object.getPrototypeOf(selector) !== Object.prototype) return undefined;
  if (!Object.values(selector).every(v => typeof v === 'string')) return undefined;
  if (typeof c.metadata.namespace !== 'string' && c.metadata.namespace !== undefined) return undefined;
  return { key: `${c.metadata.namespace ?? 'default'}/${c.name}`, selector: { ...selector } };
}

const TRACES = new Derived<TracedCluster[]>('trace');
const TRACE_ERRORS = new Derived<Map<IConstruct, string[]>>('trace-errors');
const POD_TEMPLATE_LABELS = new Derived<Map<string, PodLabels[]>>('pod-template-labels');
const SERVICE_SELECTORS = new Derived<Map<string, Map<string, unknown>>>('service-selectors');
const NO_SERVICES = new Map<string, unknown>();

/**
 * The trace itself (the walk, its hops and the shared checks), loaded at the first synthesis: requiring the package
 * loads the constructs and the model, and an app pays for the trace when it validates (test/trace/lazy-start.test.ts).
 */
function appTrace(): typeof AppTrace {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./app-trace');
}
