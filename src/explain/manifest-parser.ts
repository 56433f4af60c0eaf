import { ProxyConfigIndex } from './agent-env';
import { Finding, FindingSeverity, SkippedObject } from './explain-report';
import { GatewayApiGateway, gatewayApiRouteBackends, readGatewayApiGateway } from './gateway-api-reader';
import { HelmValues } from './helm-values';
import { readManifestText } from './input';
import { meshFor, readMeshSettings } from './mesh-config';
import { classifyObjects, objectWhere } from './skipped';
import { REVISION_LABEL } from '../envoy/names';
import { resolveWaypoint } from '../model/ambient';
import { TRUST_CHAIN_ANNOTATION as CHAIN_ANNOTATION } from '../model/annotations';
import { finding } from '../model/finding-text';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL } from '../model/gateway-api';
import { PolicyTargetRef } from '../model/model';
import { RateLimitModel } from '../model/rate-limit';
import { TraceModel } from '../model/trace-model';
import { XffFilterModel } from '../model/xff-filter-checks';
import { LabelIndex, SelectorIndex } from '../trace/selector-index';
import { WorkloadIndex } from '../trace/workload-index';
import { withHttpRouteHeaders, withVirtualServiceHeaders } from './read/client-headers';
import { readEnvoyFilter, xffFilterModelsOf } from './read/envoy-filters';
import { dedupeGateways, installedGateway, isGatewayPod, istioVersionOf, parseGateway } from './read/gateways';
import { Indexes, rootNamespacesOf } from './read/indexes';
import { PodTemplateOwner, WORKLOAD_KINDS, labelsOf, namespaceOf, podTemplateOf, servicesByName } from './read/objects';
import { parsePolicy } from './read/policies';
import { readRateLimit } from './read/rate-limits';
import { withoutReplicas } from './read/replicas';
import { proxyProtocolTargets, routesOf } from './read/routes';
import { isWaypointGateway, isWaypointPod, waypointFindings, waypointOf } from './read/waypoints';
import { injectionDisabled, parseWorkload } from './read/workloads';

/*
 * Manifests (ours or hand-written) back into the shared model. Lenient: anything we cannot read becomes a
 * finding, never an exception, because explain must work on any cluster's YAML.
 */

/** Annotation on a gateway Service, Deployment or pod template that declares the hops in front of it. */
export const TRUST_CHAIN_ANNOTATION = CHAIN_ANNOTATION;

/** What explain reads from manifests: the trace's model, plus what reading found and skipped. */
export interface ParsedManifests extends TraceModel {
  /** Problems found while reading. */
  readonly findings: Finding[];
  /** The objects explain did not use, with the reason. */
  readonly skipped: SkippedObject[];
}

/**
 * Reads manifests (and the values of Istio Helm releases) into the model. Gateways that an IstioOperator or a
 * gateway Helm release installs join as the Deployment and Service they render, unless the input holds them.
 */
export function parseManifests(input: any[], helmValues: readonly HelmValues[] = []): ParsedManifests {
  const { used, skipped } = classifyObjects(input);
  const findings: Finding[] = [];
  const mesh = readMeshSettings(used, helmValues, findings);
  const objects = [...used, ...notInInput(mesh.installedGateways, used, findings)];
  const byKind = new Map<string, any[]>();
  for (const o of objects) {
    const kind = WORKLOAD_KINDS.includes(o.kind) ? 'workload' : o.kind;
    const list = byKind.get(kind);
    if (list) list.push(o);
    else byKind.set(kind, [o]);
  }
  const ofKind = (kind: string): any[] => byKind.get(kind) ?? [];
  const namespaceRevisions = new Map<string, string>(ofKind('Namespace')
    .filter(o => typeof o.metadata?.labels?.[REVISION_LABEL] === 'string').map(o => [o.metadata.name, o.metadata.labels[REVISION_LABEL]]));
  const services = ofKind('Service');
  const isGatewayApi = (o: any): boolean => String(o.apiVersion).startsWith(`${GATEWAY_API_GROUP}/`);
  const istioGateways = ofKind('Gateway').filter(o => !isGatewayApi(o));
  const waypoints = ofKind('Gateway').filter(isWaypointGateway).map(waypointOf);
  const configMaps = servicesByName(ofKind('ConfigMap'));
  const gatewayApiGateways = new Map<string, GatewayApiGateway>();
  for (const o of ofKind('Gateway').filter(g => isGatewayApi(g) && !isWaypointGateway(g))) {
    const read = readGatewayApiGateway(o, configMaps, findings);
    gatewayApiGateways.set(`${read.namespace}/${read.name}`, read);
  }
  // The waypoints' own Deployments (a cluster dump has them) are neither ingress gateways nor app workloads.
  const pods = withoutReplicas(ofKind('workload')).map(podTemplateOf).filter(p => !isWaypointPod(p, waypoints));
  for (const p of pods) {
    const revision = p.labels[REVISION_LABEL] ?? namespaceRevisions.get(p.namespace);
    p.mesh = meshFor(mesh, revision, `${p.kind} ${p.namespace}/${p.name}`, findings);
  }
  const envoyFilters = ofKind('EnvoyFilter');
  const indexes: Indexes = {
    istioGateways: new SelectorIndex(),
    services: new SelectorIndex(),
    serviceByName: servicesByName(services),
    envoyFilters: new SelectorIndex(),
    rootNamespaces: rootNamespacesOf(envoyFilters, mesh.rootNamespaces),
    mesh,
    proxyConfigs: ProxyConfigIndex.of(ofKind('ProxyConfig'), findings),
  };
  for (const g of istioGateways) if (Object.keys(g.spec?.selector ?? {}).length > 0) indexes.istioGateways.add('*', g.spec.selector, g);
  for (const svc of services) if (Object.keys(svc.spec?.selector ?? {}).length > 0) indexes.services.add('*', svc.spec.selector, svc);
  const xffFilters: XffFilterModel[] = [];
  const rateLimits: RateLimitModel[] = [];
  for (const f of envoyFilters) {
    const limit = readRateLimit(f, findings);
    if (limit !== undefined) rateLimits.push(limit);
    const read = readEnvoyFilter(f, findings);
    // targetRefs is ignored by sidecars and classic gateways.
    if (f.spec?.targetRefs !== undefined) continue;
    indexes.envoyFilters.add(namespaceOf(f), f.spec?.workloadSelector?.labels ?? {}, read);
    xffFilters.push(...xffFilterModelsOf(f, read, indexes.rootNamespaces));
  }
  const namespaceLabels = new Map<string, { [key: string]: string }>();
  for (const ns of ofKind('Namespace')) if (!namespaceLabels.has(ns.metadata?.name)) namespaceLabels.set(ns.metadata?.name, labelsOf(ns));

  const gatewayPods = pods.filter(p => isGatewayPod(p, indexes));
  const gatewayPodIndex = new LabelIndex<PodTemplateOwner>();
  for (const p of gatewayPods) gatewayPodIndex.add('*', p.labels, p);
  const gatewayApiOf = (p: PodTemplateOwner): GatewayApiGateway | undefined => gatewayApiGateways.get(`${p.namespace}/${p.labels[GATEWAY_NAME_LABEL]}`);
  const gateways = gatewayPods.map(p => parseGateway(p, indexes, findings, gatewayApiOf(p)));
  const deployedGatewayApi = new Set(gatewayPods.map(gatewayApiOf));
  for (const g of gatewayApiGateways.values()) {
    if (deployedGatewayApi.has(g)) continue;
    const owner: PodTemplateOwner = { kind: 'Gateway', name: g.name, namespace: g.namespace, labels: g.podLabels, annotations: g.podAnnotations, ownerAnnotations: g.ownerAnnotations };
    gateways.push(parseGateway(owner, indexes, findings, g));
  }
  for (const gw of istioGateways) {
    const selector = gw.spec?.selector ?? {};
    const ns = namespaceOf(gw);
    if (gatewayPodIndex.selectedBy('*', selector).length > 0) continue;
    const installed = installedGateway(gw, selector, ns);
    installed.mesh = meshFor(mesh, selector[REVISION_LABEL], `gateway ${installed.namespace}/${installed.name}`, findings);
    gateways.push(parseGateway(installed, indexes, findings));
  }
  const isGateway = new Set(gatewayPods);
  const workloads = pods
    .filter(p => !isGateway.has(p))
    .filter(p => !injectionDisabled(p))
    .map(p => parseWorkload(p, indexes, namespaceLabels, findings));
  const workloadIndex = new WorkloadIndex(workloads, (namespace, name) => indexes.serviceByName.get(`${namespace}/${name}`)?.spec?.selector);
  const workloadsOfService = (namespace: string, name: string) => workloadIndex.behind(name, namespace);
  waypointFindings(workloads, waypoints, findings);
  const namespaceWaypoints = new Map([...namespaceLabels].flatMap(([ns, labels]) => {
    const waypoint = resolveWaypoint(ns, labels);
    return waypoint !== undefined ? [[ns, waypoint] as const] : [];
  }));
  const attachesToWaypoint = (namespace: string, ref: PolicyTargetRef) => ref.kind === 'Service'
    ? (workloadsOfService(namespace, ref.name).length === 0
      ? namespaceWaypoints.has(namespace) : workloadsOfService(namespace, ref.name).some(w => w.waypoint !== undefined))
    : ref.kind === 'Gateway' && waypoints.some(w => w.namespace === namespace && w.name === ref.name);
  const policies = ofKind('AuthorizationPolicy').flatMap(o => parsePolicy(o, findings, attachesToWaypoint));
  const deduped = withHttpRouteHeaders(withVirtualServiceHeaders(dedupeGateways(gateways), ofKind('VirtualService')), ofKind('HTTPRoute'));
  const routeKinds = ['HTTPRoute', 'TCPRoute', 'TLSRoute'].flatMap(ofKind);
  const routes = routesOf(deduped, ofKind('VirtualService'), gatewayApiRouteBackends(routeKinds, findings), workloadIndex, findings);
  return {
    rootNamespaces: indexes.rootNamespaces,
    namespaceWaypoints,
    istioVersion: istioVersionOf(ofKind('Gateway'), findings) ?? mesh.istioVersion,
    proxyProtocolTo: proxyProtocolTargets(ofKind('DestinationRule'), workloadIndex),
    gateways: deduped,
    workloads,
    policies,
    findings,
    routes,
    skipped,
    waypoints,
    workloadsOfService,
    xffFilters,
    rateLimits,
  };
}

/**
 * The installed gateways' Deployments and Services the input does not hold itself: a workload of the same
 * namespace and name (or whose pods the Service selects) and a Service of the same name are the rendered truth.
 */
function notInInput(installed: any[], objects: any[], findings: Finding[]): any[] {
  const names = new Set(objects.map(o => `${o.kind === 'Service' ? 'Service' : WORKLOAD_KINDS.includes(o.kind) ? 'workload' : o.kind}/${namespaceOf(o)}/${o.metadata?.name}`));
  const podLabels = new LabelIndex<any>();
  for (const o of objects) if (WORKLOAD_KINDS.includes(o.kind)) podLabels.add(namespaceOf(o), podTemplateOf(o).labels, o);
  return installed.filter(o => {
    const kind = o.kind === 'Service' ? 'Service' : 'workload';
    const selector = o.kind === 'Service' ? undefined : o.spec.selector.matchLabels;
    const inInput = names.has(`${kind}/${namespaceOf(o)}/${o.metadata.name}`) || (selector !== undefined && podLabels.selectedBy(namespaceOf(o), selector).length > 0);
    if (inInput && kind === 'workload') {
      findings.push(finding(FindingSeverity.INFO, objectWhere(o), `the input holds this gateway's ${o.kind} (${namespaceOf(o)}/${o.metadata.name} or pods with its labels): explain reads that instead of the values`,
        'none needed: the rendered objects are what runs'));
    }
    return !inInput;
  });
}

/** Splits multi-document YAML into objects; a document that is a List is flattened. Throws an input error naming the document. */
export function parseYamlDocuments(text: string, source = 'input'): any[] {
  return readManifestText(text, source);
}
