import * as ipaddr from 'ipaddr.js';
import { AgentEnv, envOf, ProxyConfigIndex, proxyContainerEnv } from './agent-env';
import { Finding, FindingSeverity, SkippedObject } from './explain-report';
import { GatewayApiGateway, gatewayApiRouteBackends, gatewayTargetRefs, readGatewayApiGateway } from './gateway-api-reader';
import { HelmValues } from './helm-values';
import { readManifestText, parseEmbeddedYaml } from './input';
import { fieldsLostByReplacement, isInstalledGateway, MeshDefaults, meshFor, MeshSettings, readMeshSettings } from './mesh-config';
import { ReadContext, readBoolean, readCidrRange, readEnum, readInteger, readList, readPort, readString, shortValue, UINT32_MAX, wrongShape } from './read-values';
import { classifyObjects, objectWhere } from './skipped';
import {
  CUSTOM_HEADER_DETECTION, DEFAULT_ROOT_NAMESPACE, gatewayListenerPort, HCM_FILTER, LEGACY_PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_FILTER,
  SIDECAR_INBOUND_PORT, XFF_DETECTION,
} from '../envoy/names';
import { REJECT_STATUSES } from '../envoy/original-ip-detection';
import {
  AMBIENT_MODE, DATAPLANE_MODE_LABEL, INGRESS_USE_WAYPOINT_LABEL, resolveWaypoint, USE_WAYPOINT_LABEL, WAYPOINT_FOR_LABEL,
  WAYPOINT_GATEWAY_CLASS, waypointForOf,
} from '../model/ambient';
import {
  EXPECTED_TOPOLOGY_ANNOTATION, GATEWAY_SERVICE_ANNOTATION, ISTIO_VERSION_ANNOTATION, LB_PRESERVES_SOURCE_ANNOTATION,
  NODE_ADDRESS_ACCEPTED_ANNOTATION, ONLY_THROUGH_CDN_ANNOTATION,
  ROOT_NAMESPACE_ANNOTATION, STATUS_PORT_PROXY_PROTOCOL_ENV,
  TRUST_CHAIN_ANNOTATION as CHAIN_ANNOTATION,
} from '../model/annotations';
import { finding } from '../model/finding-text';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL } from '../model/gateway-api';
import { IstioVersion } from '../model/istio-version';
import { loadBalancerFacts } from '../model/load-balancer-facts';
import {
  ClientIpField, ExternalTrafficPolicy, GatewayModel, InterceptionMode, PolicyAction, PolicyModel, PolicyTargetRef, ProxyProtocolMode,
  ProxyProtocolVersion, ProxyRole, ServerModel, SidecarXffMode, WaypointModel, WorkloadModel,
} from '../model/model';
import { addRoute, EnvSetting, hostParts, MAX_ASSUMED_PROXIES, RouteProtocol, TracedGateway, TraceModel } from '../model/trace-model';
import { TrustChain } from '../model/trust-chain';
import { XffFilterModel, XffFilterSettingsModel } from '../model/xff-filter-checks';
import { parseCidr } from '../net/cidr';
import { LabelIndex, SelectorIndex } from '../trace/selector-index';
import { WorkloadIndex } from '../trace/workload-index';

/*
 * Manifests (ours or hand-written) back into the shared model. Lenient: anything we cannot read becomes a
 * finding, never an exception, because explain must work on any cluster's YAML.
 */

/** Annotation on a gateway Service, Deployment or pod template that declares the hops in front of it. */
export const TRUST_CHAIN_ANNOTATION = CHAIN_ANNOTATION;

const CONTEXTS = ['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY', 'WAYPOINT'];

/** What explain reads from manifests: the trace's model, plus what reading found and skipped. */
export interface ParsedManifests extends TraceModel {
  /** Problems found while reading. */
  readonly findings: Finding[];
  /** The objects explain did not use, with the reason. */
  readonly skipped: SkippedObject[];
}

interface PodTemplateOwner {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  readonly ownerAnnotations: { [key: string]: string };
  /** For a gateway known only by an Istio Gateway's selector: that resource's annotations. */
  readonly gatewayResourceAnnotations?: { [key: string]: string };
  /** The meshConfig of the pods' Istio revision, when the input holds it. */
  mesh?: MeshDefaults;
  /** True for a gateway an IstioOperator or gateway Helm release installs. */
  readonly installed?: boolean;
  /** Env of the pod template's istio-proxy container. */
  readonly proxyEnv?: AgentEnv;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job'];

/** The objects explain looks up per pod, indexed by label so that parsing stays linear in the number of objects. */
interface Indexes {
  readonly istioGateways: SelectorIndex<any>;
  readonly services: SelectorIndex<any>;
  /** Services by `namespace/name` (the first of duplicates). */
  readonly serviceByName: Map<string, any>;
  readonly envoyFilters: SelectorIndex<ReadEnvoyFilter>;
  /** Namespaces whose EnvoyFilters and policies reach pods in every namespace. */
  readonly rootNamespaces: string[];
  /** meshConfig per Istio revision, and the gateways IstioOperators and Helm releases install. */
  readonly mesh: MeshSettings;
  /** ProxyConfig resources, which set the proxies' environment. */
  readonly proxyConfigs: ProxyConfigIndex;
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
    .filter(o => typeof o.metadata?.labels?.['istio.io/rev'] === 'string').map(o => [o.metadata.name, o.metadata.labels['istio.io/rev']]));
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
  const pods = ofKind('workload').map(podTemplateOf).filter(p => !isWaypointPod(p, waypoints));
  for (const p of pods) {
    const revision = p.labels['istio.io/rev'] ?? namespaceRevisions.get(p.namespace);
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
  for (const f of envoyFilters) {
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
    installed.mesh = meshFor(mesh, selector['istio.io/rev'], `gateway ${installed.namespace}/${installed.name}`, findings);
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
  const attachesToWaypoint = (namespace: string, ref: PolicyTargetRef) => ref.kind === 'Service'
    ? workloadsOfService(namespace, ref.name).some(w => w.waypoint !== undefined)
    : ref.kind === 'Gateway' && waypoints.some(w => w.namespace === namespace && w.name === ref.name);
  const policies = ofKind('AuthorizationPolicy').flatMap(o => parsePolicy(o, findings, attachesToWaypoint));
  const deduped = dedupeGateways(gateways);
  const routeKinds = ['HTTPRoute', 'TCPRoute', 'TLSRoute'].flatMap(ofKind);
  const routes = routesOf(deduped, ofKind('VirtualService'), gatewayApiRouteBackends(routeKinds, findings), workloadIndex, findings);
  return {
    rootNamespaces: indexes.rootNamespaces,
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
  };
}

function labelsOf(o: any): { [key: string]: string } {
  const labels = o?.metadata?.labels;
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? labels : {};
}

/** A Gateway API Gateway of Istio's waypoint class. */
function isWaypointGateway(o: any): boolean {
  return String(o.apiVersion).startsWith(`${GATEWAY_API_GROUP}/`) && o.spec?.gatewayClassName === WAYPOINT_GATEWAY_CLASS;
}

/** Pods istiod deployed for a waypoint: labelled with the name of a waypoint Gateway of their namespace. */
function isWaypointPod(p: PodTemplateOwner, waypoints: WaypointModel[]): boolean {
  const gateway = p.labels[`${GATEWAY_API_GROUP}/gateway-name`];
  return gateway !== undefined && waypoints.some(w => w.namespace === p.namespace && w.name === gateway);
}

function waypointOf(o: any): WaypointModel {
  return { name: o.metadata?.name ?? 'unnamed', namespace: namespaceOf(o), waypointFor: waypointForOf(labelsOf(o)[WAYPOINT_FOR_LABEL]) };
}

/** A workload that names a waypoint the input does not hold. */
function waypointFindings(workloads: WorkloadModel[], waypoints: WaypointModel[], findings: Finding[]): void {
  const known = new Set(waypoints.map(w => `${w.namespace}/${w.name}`));
  for (const w of workloads) {
    if (w.waypoint === undefined) continue;
    if (!known.has(w.waypoint)) {
      findings.push(finding(FindingSeverity.WARNING, `workload ${w.namespace}/${w.name}`, `${USE_WAYPOINT_LABEL} names waypoint ${w.waypoint}, which is not in the input: explain assumes it exists and handles the workload's traffic`,
        `give explain the waypoint's Gateway (gatewayClassName ${WAYPOINT_GATEWAY_CLASS}) too, or fix the label`));
    }
  }
}


/** The meshConfig's root namespaces (else Istio's default) plus any that this library's EnvoyFilters name in their annotation. */
function rootNamespacesOf(envoyFilters: any[], meshRoots: string[]): string[] {
  const named = envoyFilters
    .map(f => f.metadata?.annotations?.[ROOT_NAMESPACE_ANNOTATION])
    .filter((ns: unknown): ns is string => typeof ns === 'string' && ns !== '');
  return [...new Set([...(meshRoots.length > 0 ? meshRoots : [DEFAULT_ROOT_NAMESPACE]), ...named])];
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

function servicesByName(services: any[]): Map<string, any> {
  const byName = new Map<string, any>();
  for (const svc of services) {
    const key = `${namespaceOf(svc)}/${svc.metadata?.name}`;
    if (!byName.has(key)) byName.set(key, svc);
  }
  return byName;
}

/** The newest Istio release named by this library's annotation on a Gateway (Istio's or the Gateway API's). */
function istioVersionOf(istioGateways: any[], findings: Finding[]): IstioVersion | undefined {
  const versions: IstioVersion[] = [];
  for (const gw of istioGateways) {
    const text = gw.metadata?.annotations?.[ISTIO_VERSION_ANNOTATION];
    if (text === undefined) continue;
    const supported = IstioVersion.all().find(v => v.label === String(text).trim().split('.').slice(0, 2).join('.'));
    if (supported) {
      versions.push(supported);
    } else {
      findings.push(finding(FindingSeverity.WARNING, objectWhere(gw), `${ISTIO_VERSION_ANNOTATION} ${shortValue(text)} is not a supported Istio release`,
        `write a release from ${IstioVersion.OLDEST.label} to ${IstioVersion.LATEST.label}, or pass --istio-version`));
    }
  }
  return versions.sort((a, b) => b.minor - a.minor)[0];
}

/**
 * Workloads that receive PROXY protocol from every mesh client of their host: a DestinationRule with
 * `trafficPolicy.proxyProtocol` on a Service that selects them.
 */
function proxyProtocolTargets(destinationRules: any[], workloads: WorkloadIndex): Map<string, ProxyProtocolVersion> {
  const targets = new Map<string, ProxyProtocolVersion>();
  for (const dr of destinationRules) {
    const pp = dr.spec?.trafficPolicy?.proxyProtocol;
    if (pp === undefined || pp === null || typeof dr.spec?.host !== 'string') continue;
    const version = pp.version === 'V1' ? ProxyProtocolVersion.V1 : ProxyProtocolVersion.V2;
    const [name, ns] = hostParts(dr.spec.host, namespaceOf(dr));
    workloads.behind(name, ns).forEach(w => targets.set(`${w.namespace}/${w.name}`, version));
  }
  return targets;
}

/** Follows VirtualServices bound to each gateway to the Services they route to, and those to workloads. */
function routesOf(gateways: TracedGateway[], virtualServices: any[], gatewayApiBackends: Map<string, Array<[string, string, RouteProtocol]>>,
  workloads: WorkloadIndex, findings: Finding[]): Map<string, Map<string, Set<RouteProtocol>>> {
  const routes = new Map<string, Map<string, Set<RouteProtocol>>>();
  const byGateway = new Map<string, any[]>();
  for (const vs of virtualServices) {
    const ctx = { where: objectWhere(vs), findings };
    for (const g of new Set(readList(ctx, 'spec.gateways', vs.spec?.gateways))) {
      if (typeof g !== 'string') {
        readString(ctx, 'spec.gateways[]', g);
        continue;
      }
      const key = g.includes('/') ? g : `${namespaceOf(vs)}/${g}`;
      const list = byGateway.get(key);
      if (list) list.push(vs);
      else byGateway.set(key, [vs]);
    }
  }
  for (const gw of gateways) {
    const bound = [...new Set(gw.gatewayResources.flatMap(r => byGateway.get(r) ?? []))];
    const backends = gw.gatewayResources.flatMap(r => gatewayApiBackends.get(r) ?? []);
    if (bound.length === 0 && backends.length === 0) continue;
    const key = `${gw.model.namespace}/${gw.model.name}`;
    routes.set(key, new Map());
    for (const [name, ns, protocol] of backends) workloads.behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
    for (const vs of bound) {
      for (const [section, protocol] of [['http', 'HTTP'], ['tcp', 'TCP'], ['tls', 'TCP']] as Array<[string, RouteProtocol]>) {
        const hosts: unknown[] = listOf(vs.spec?.[section]).flatMap((r: any) => listOf(r?.route).map((d: any) => d?.destination?.host));
        for (const host of hosts) {
          if (typeof host !== 'string') continue;
          const [name, ns] = hostParts(host, namespaceOf(vs));
          workloads.behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
        }
      }
    }
  }
  return routes;
}

/** Splits multi-document YAML into objects; a document that is a List is flattened. Throws an input error naming the document. */
export function parseYamlDocuments(text: string, source = 'input'): any[] {
  return readManifestText(text, source);
}

function namespaceOf(o: any): string {
  return o.metadata?.namespace ?? 'default';
}

function podTemplateOf(o: any): PodTemplateOwner {
  const meta = o.kind === 'Pod' ? o.metadata ?? {} : o.spec?.template?.metadata ?? {};
  return {
    kind: o.kind,
    name: o.metadata?.name ?? 'unnamed',
    namespace: namespaceOf(o),
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    ownerAnnotations: o.metadata?.annotations ?? {},
    ...(isInstalledGateway(o) ? { installed: true } : {}),
    proxyEnv: proxyContainerEnv(o.kind === 'Pod' ? o.spec : o.spec?.template?.spec, `${o.kind} ${namespaceOf(o)}/${o.metadata?.name ?? 'unnamed'} istio-proxy env`),
  };
}

/**
 * A gateway installation known only by an Istio Gateway's selector. This library's attach mode names the
 * installation's Service (`namespace/name`) in an annotation; its partial Service has no selector.
 */
function installedGateway(gw: any, selector: { [key: string]: string }, ns: string): PodTemplateOwner {
  const annotations = gw.metadata?.annotations ?? {};
  const service = typeof annotations[GATEWAY_SERVICE_ANNOTATION] === 'string' ? String(annotations[GATEWAY_SERVICE_ANNOTATION]).split('/') : [];
  const name = service.length === 2 ? service[1] : selector.istio ?? selector.app ?? gw.metadata?.name ?? 'gateway';
  const namespace = service.length === 2 ? service[0] : ns;
  return { kind: 'Gateway selector', name, namespace, labels: selector, annotations: {}, ownerAnnotations: {}, gatewayResourceAnnotations: annotations };
}

function isGatewayPod(p: PodTemplateOwner, indexes: Indexes): boolean {
  if (p.installed) return true;
  if (p.annotations['inject.istio.io/templates'] === 'gateway') return true;
  if (p.labels.istio === 'ingressgateway' || p.labels['gateway.networking.k8s.io/gateway-name'] !== undefined) return true;
  if (proxyConfigOf(p)?.gatewayTopology !== undefined) return true;
  return indexes.istioGateways.matching(['*'], p.labels).length > 0;
}

function injectionDisabled(p: PodTemplateOwner): boolean {
  return p.labels['sidecar.istio.io/inject'] === 'false' || p.annotations['sidecar.istio.io/inject'] === 'false';
}

function proxyConfigOf(p: PodTemplateOwner, findings?: Finding[]): any {
  const text = p.annotations['proxy.istio.io/config'];
  if (text === undefined) return undefined;
  try {
    const config = parseEmbeddedYaml(text) ?? {};
    if (typeof config !== 'object' || Array.isArray(config)) throw new Error(`it is ${shortValue(config)}, not a map`);
    return config;
  } catch (e) {
    findings?.push(finding(FindingSeverity.ERROR, `${p.kind} ${p.namespace}/${p.name}`,
      `proxy.istio.io/config is not valid JSON or YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the annotation; the injector rejects it'));
    return undefined;
  }
}

function parseGateway(p: PodTemplateOwner, indexes: Indexes, findings: Finding[], gatewayApi?: GatewayApiGateway): TracedGateway {
  const where = `gateway ${p.namespace}/${p.name}`;
  const ctx: ReadContext = { where, findings };
  // Istio generates a Gateway API gateway's Service: the real one when the input has it, else as the overlay shapes it.
  const service = gatewayApi ? indexes.serviceByName.get(`${gatewayApi.namespace}/${gatewayApi.service.metadata.name}`) ?? gatewayApi.service : serviceOf(p, indexes);
  const rawTopology = gatewayTopologyOf(p, where, findings);
  meshTopologyFindings(p, rawTopology, where, findings);
  const topology: any = typeof rawTopology === 'object' && rawTopology !== null && !Array.isArray(rawTopology) ? rawTopology : {};
  if (topology !== rawTopology) wrongShape(ctx, 'proxy.istio.io/config gatewayTopology', rawTopology, 'a map');
  const filters = indexes.envoyFilters.matching([p.namespace, ...indexes.rootNamespaces], p.labels);
  const gatewayHcm = hcmPatches(filters, ['GATEWAY', 'ANY', undefined]);
  gatewayHcmFindings(gatewayHcm, where, findings);
  const hcmHops = gatewayHcm.map(v => v.hops).filter((n): n is number => n !== undefined && n > 0);
  const topologyHops = readInteger(ctx, 'proxy.istio.io/config gatewayTopology.numTrustedProxies', topology.numTrustedProxies, 0, UINT32_MAX);
  const numTrustedProxies = hcmHops.length > 0 ? hcmHops[hcmHops.length - 1] : topologyHops ?? 0;
  if (numTrustedProxies > MAX_ASSUMED_PROXIES) {
    findings.push(finding(FindingSeverity.ERROR, where, `numTrustedProxies ${numTrustedProxies} is more than the ${MAX_ASSUMED_PROXIES} proxies any real chain has: no request carries that many X-Forwarded-For entries, so the gateway always falls back to the socket peer`,
      'set numTrustedProxies to the number of proxies in front that append X-Forwarded-For (TrustChain.derive() counts them)'));
  }
  const listenerPp = proxyProtocolListenerPatches(filters, ['GATEWAY', 'ANY', undefined]);
  const topologyPp = topology.proxyProtocol !== undefined && topology.proxyProtocol !== null;
  const proxyProtocol = topologyPp ? ProxyProtocolMode.STRICT
    : listenerPp.length === 0 ? ProxyProtocolMode.OFF
      : listenerPp.some(l => l.optional) ? ProxyProtocolMode.OPTIONAL : ProxyProtocolMode.STRICT_PER_PORT;
  const bound = indexes.istioGateways.matching(['*'], p.labels);
  const targetPorts = targetPortsOf(service);
  // An installation this library attached to keeps the Istio chart's convention (80 -> 8080) where its Service is not in the input.
  const attached = p.gatewayResourceAnnotations?.[GATEWAY_SERVICE_ANNOTATION] !== undefined;
  const servers: ServerModel[] = [...bound.flatMap(g => readServers(g, findings)).map(s => {
    const targetPort = targetPorts.get(s.port) ?? (attached ? gatewayListenerPort(s.port) : undefined);
    return targetPort === undefined ? s : { ...s, targetPort };
  }), ...(gatewayApi?.servers ?? [])];
  const serviceAnnotations = service?.metadata?.annotations ?? {};
  const lb = loadBalancerFacts(serviceAnnotations, service?.spec?.loadBalancerClass);
  const annotations = { ...(p.gatewayResourceAnnotations ?? {}), ...serviceAnnotations, ...p.ownerAnnotations, ...p.annotations };
  const model: GatewayModel = {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    externalTrafficPolicy: readEnum({ where: service ? objectWhere(service) : where, findings }, 'spec.externalTrafficPolicy', service?.spec?.externalTrafficPolicy, ['Local', 'Cluster']) === 'Local'
      ? ExternalTrafficPolicy.LOCAL : ExternalTrafficPolicy.CLUSTER,
    loadBalancerPreservesSource: annotations[LB_PRESERVES_SOURCE_ANNOTATION] !== undefined
      ? annotations[LB_PRESERVES_SOURCE_ANNOTATION] === 'true' : lb.preservesSourceWithoutLocal,
    numTrustedProxies,
    proxyProtocol,
    proxyProtocolPorts: proxyProtocol === ProxyProtocolMode.STRICT ? [] : servicePortsOf(listenerPp, servers),
    servers,
    serviceName: service?.metadata?.name ?? (attached ? p.name : undefined),
  };
  return {
    model,
    serviceType: readEnum({ where: service ? objectWhere(service) : where, findings }, 'spec.type', service?.spec?.type, ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
    loadBalancerSendsProxyProtocol: lb.sendsProxyProtocol,
    loadBalancerSendsProxyProtocolOnEveryPort: lb.sendsProxyProtocolOnEveryPort,
    trustChain: trustChainOf(annotations[TRUST_CHAIN_ANNOTATION], where, findings),
    proxyProtocolTwice: topologyPp && listenerPp.length > 0,
    gatewayResources: [...bound.map(g => `${namespaceOf(g)}/${g.metadata?.name}`), ...(gatewayApi ? [gatewayApi.resourceKey] : [])],
    ...optionalEnv(agentEnvOf(p, indexes, where, findings, gatewayApi).get(STATUS_PORT_PROXY_PROTOCOL_ENV)),
    agentEnvKnown: !p.installed && p.kind !== 'Gateway selector',
    ...(lb.id ? { loadBalancerId: lb.id } : {}),
    serviceAnnotations,
    ...(annotations[NODE_ADDRESS_ACCEPTED_ANNOTATION] === 'true' ? { nodeAddressAccepted: true } : {}),
  };
}

function optionalEnv(setting: EnvSetting | undefined): { statusPortProxyProtocolEnv?: EnvSetting } {
  return setting ? { statusPortProxyProtocolEnv: setting } : {};
}

/**
 * The gateway's istio-proxy environment, lowest precedence first: meshConfig proxyMetadata, ProxyConfigs (with the
 * pod annotation's proxyMetadata when the pods are injected), then the container env of the pod template or the
 * Gateway API `deployment` overlay.
 */
function agentEnvOf(p: PodTemplateOwner, indexes: Indexes, where: string, findings: Finding[], gatewayApi?: GatewayApiGateway): AgentEnv {
  const meshEnv = envOf(p.mesh?.proxyMetadata, `${p.mesh?.source} ${p.mesh?.field}.defaultConfig.proxyMetadata`);
  const root = p.mesh?.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const annotationMetadata = proxyConfigOf(p)?.proxyMetadata;
  if (!gatewayApi) {
    const annotationEnv = envOf(annotationMetadata, `${where} proxy.istio.io/config proxyMetadata`);
    const env = indexes.proxyConfigs.envFor(p.namespace, p.labels, root, meshEnv, annotationEnv);
    for (const [k, v] of p.proxyEnv ?? []) env.set(k, v);
    return env;
  }
  if (envOf(annotationMetadata, '').has(STATUS_PORT_PROXY_PROTOCOL_ENV)) {
    findings.push(finding(FindingSeverity.WARNING, where,
      `proxy.istio.io/config proxyMetadata sets ${STATUS_PORT_PROXY_PROTOCOL_ENV}, but Istio renders a Gateway API gateway's Deployment without reading pod annotations for the environment: it does not apply`,
      `set it in the deployment overlay of the parametersRef ConfigMap (containers: [{ name: istio-proxy, env: [{ name: ${STATUS_PORT_PROXY_PROTOCOL_ENV}, value: "true" }] }]) or in a ProxyConfig selecting ${GATEWAY_NAME_LABEL}: ${gatewayApi.name}`));
  }
  // istiod matches ProxyConfigs against the gateway-name label only, and passes no annotations.
  const env = indexes.proxyConfigs.envFor(p.namespace, gatewayApi.podLabels, root, meshEnv, new Map());
  for (const [k, v] of gatewayApi.overlayEnv) env.set(k, v);
  for (const [k, v] of p.proxyEnv ?? []) env.set(k, v);
  return env;
}

/** The gateway's Service: one that selects its pods (same namespace first), else the one attach mode names. */
function serviceOf(p: PodTemplateOwner, indexes: Indexes): any {
  const selecting = indexes.services.matching(['*'], p.labels);
  const named = p.gatewayResourceAnnotations?.[GATEWAY_SERVICE_ANNOTATION] !== undefined
    ? indexes.serviceByName.get(`${p.namespace}/${p.name}`) : undefined;
  return selecting.find(s => namespaceOf(s) === p.namespace) ?? named ?? selecting[0];
}

/**
 * Gateways always have use_remote_address true: Envoy rejects the listener when a patch adds original-IP-detection
 * extensions to it, and a MERGE of use_remote_address false is silently dropped (istio/istio#18169).
 */
function gatewayHcmFindings(patches: ReadHcm[], where: string, findings: Finding[]): void {
  if (patches.some(v => v.extensions > 0)) {
    findings.push(finding(FindingSeverity.ERROR, where,
      'an EnvoyFilter adds original_ip_detection_extensions (trusted CIDRs or a client header) to the gateway\'s connection manager, which has use_remote_address true: Envoy rejects the listener ("Original IP detection extensions and use_remote_address may not be mixed"; envoyproxy/envoy#40873)',
      'keep the gateway on numTrustedProxies and resolve the client on the sidecars behind it (XffSidecarFilter with XffTrust.trustedCidrs or XffTrust.clientHeader; docs/cdn.md)'));
  }
  if (patches.some(v => v.useRemoteAddress === false)) {
    findings.push(finding(FindingSeverity.WARNING, where,
      'an EnvoyFilter MERGE sets use_remote_address false on the gateway: Istio merges protobufs field by field and never copies a false value, so the gateway keeps use_remote_address true (istio/istio#18169)',
      'remove the setting; a gateway cannot be switched to use_remote_address false by an EnvoyFilter'));
  }
}

/**
 * `gatewayTopology` of the pods (their proxy.istio.io/config replaces the mesh's as a whole), else the meshConfig
 * default of their revision, else for an attached installation the one this library told them to run with.
 */
function gatewayTopologyOf(p: PodTemplateOwner, where: string, findings: Finding[]): unknown {
  const fromPods = proxyConfigOf(p, findings)?.gatewayTopology;
  if (fromPods !== undefined) return fromPods;
  if (p.mesh?.gatewayTopology !== undefined) return p.mesh.gatewayTopology;
  const expected = p.gatewayResourceAnnotations?.[EXPECTED_TOPOLOGY_ANNOTATION];
  if (expected === undefined) return {};
  let topology: any;
  try {
    topology = JSON.parse(String(expected));
  } catch (e) {
    findings.push(finding(FindingSeverity.WARNING, where, `${EXPECTED_TOPOLOGY_ANNOTATION} is not JSON: ${(e as Error).message}`, 'write the gatewayTopology as JSON'));
    return {};
  }
  if (Number(topology?.numTrustedProxies ?? 0) > 0 || topology?.proxyProtocol !== undefined) {
    findings.push(finding(FindingSeverity.INFO, where, `assumed the installation's pods run with gatewayTopology ${shortValue(expected)}, as ${EXPECTED_TOPOLOGY_ANNOTATION} says (attach mode does not change them)`,
      `set proxy.istio.io/config to {"gatewayTopology":${expected}} on the installation's pods`));
  }
  return topology ?? {};
}

/** Says where a gateway's topology comes from when meshConfig is involved, and what a pod annotation drops from it. */
function meshTopologyFindings(p: PodTemplateOwner, topology: unknown, where: string, findings: Finding[]): void {
  const mesh = p.mesh;
  if (mesh?.gatewayTopology === undefined) return;
  const meshField = `${mesh.field}.defaultConfig.gatewayTopology`;
  if (topology === mesh.gatewayTopology) {
    findings.push(finding(FindingSeverity.INFO, where, `gatewayTopology ${shortValue(mesh.gatewayTopology)} comes from ${meshField} in ${mesh.source} (its pods set no gatewayTopology of their own)`,
      'none needed; to give this gateway other settings, set proxy.istio.io/config on its pods'));
    return;
  }
  const lost = fieldsLostByReplacement(mesh.gatewayTopology, topology);
  if (lost.length > 0) {
    findings.push(finding(FindingSeverity.WARNING, where,
      `proxy.istio.io/config sets gatewayTopology, which replaces ${meshField} of ${mesh.source} as a whole (istio-agent merges ProxyConfig field by field only at the top level): ${lost.map(k => `${k} ${shortValue((mesh.gatewayTopology as any)[k])}`).join(', ')} from the mesh does not apply to this gateway`,
      `repeat ${lost.join(', ')} in the pods' gatewayTopology if the gateway needs ${lost.length === 1 ? 'it' : 'them'}, or remove gatewayTopology from the annotation to use the mesh default`));
  }
}

/** Server port -> Service targetPort, from the Service's ports (only numeric target ports). */
function targetPortsOf(service: any): Map<number, number> {
  const ports = new Map<number, number>();
  for (const sp of listOf(service?.spec?.ports)) {
    if (typeof sp?.port === 'number' && typeof sp?.targetPort === 'number') ports.set(sp.port, sp.targetPort);
  }
  return ports;
}

/**
 * The server (Service) ports of PROXY listener patches, which match gateway listener ports: a listener port maps
 * back to the server whose targetPort it is. A patch without a port covers every server.
 */
function servicePortsOf(patches: ListenerPp[], servers: ServerModel[]): number[] {
  const ports = new Set<number>();
  for (const patch of patches) {
    if (patch.port === undefined) servers.forEach(s => ports.add(s.port));
    else ports.add(servers.find(s => (s.targetPort ?? s.port) === patch.port)?.port ?? patch.port);
  }
  return [...ports].sort((a, b) => a - b);
}

function trustChainOf(text: string | undefined, where: string, findings: Finding[]): TrustChain | undefined {
  if (text === undefined) return undefined;
  try {
    return TrustChain.fromAnnotationValue(text);
  } catch (e) {
    findings.push(finding(FindingSeverity.ERROR, where, `${TRUST_CHAIN_ANNOTATION} cannot be read: ${(e as Error).message}`,
      'write a JSON list, client side first, e.g. [{"kind":"cdn"},{"kind":"l4-passthrough"}]'));
    return undefined;
  }
}

/** The servers of an Istio Gateway, each value checked; a server with a bad port is left out with a finding. */
function readServers(g: any, findings: Finding[]): ServerModel[] {
  const ctx: ReadContext = { where: objectWhere(g), findings };
  return listOf(g.spec?.servers).flatMap((s: any, i: number) => {
    const field = `spec.servers[${i}]`;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) {
      wrongShape(ctx, field, s, 'a map with port and hosts');
      return [];
    }
    const port = readPort(ctx, `${field}.port.number`, s.port?.number);
    if (port === undefined) return [];
    const protocol = readString(ctx, `${field}.port.protocol`, s.port?.protocol) ?? 'HTTP';
    const hosts = readList(ctx, `${field}.hosts`, s.hosts).filter(h => typeof h === 'string') as string[];
    const tlsMode = readString(ctx, `${field}.tls.mode`, s.tls?.mode);
    return [{ port, protocol: protocol.toUpperCase(), hosts, ...(tlsMode !== undefined ? { tlsMode } : {}) }];
  });
}

/** One configPatch of an EnvoyFilter, as far as the client address goes, every value checked. */
interface ReadPatch {
  readonly context?: string;
  readonly port?: number;
  /** An HTTP connection manager MERGE. */
  readonly hcm?: ReadHcm;
  /** A PROXY protocol listener filter. */
  readonly proxyProtocol?: { readonly optional: boolean };
}

interface ReadHcm {
  readonly port?: number;
  readonly hops?: number;
  readonly useRemoteAddress?: boolean;
  /** How many original_ip_detection_extensions the patch sets (of any kind). */
  readonly extensions: number;
  readonly xff: Array<{ readonly hops?: number; readonly cidrs: string[] }>;
  /** The custom-header extensions: the header the client is read from, and the status when it is missing. */
  readonly customHeaders: Array<{ readonly headerName: string; readonly rejectStatus?: number }>;
}

interface ReadEnvoyFilter {
  readonly patches: ReadPatch[];
  /** The library's annotation: the gateway is reachable only through the CDN whose header the filter reads. */
  readonly onlyReachableThroughCdn: boolean;
}

/** Reads an EnvoyFilter once (not once per pod it applies to), so that each bad value is one finding. */
function readEnvoyFilter(f: any, findings: Finding[]): ReadEnvoyFilter {
  const ctx: ReadContext = { where: objectWhere(f), findings };
  const raw = listOf(f.spec?.configPatches);
  const patches = raw.flatMap((c: any, i: number) => {
    const field = `spec.configPatches[${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      wrongShape(ctx, field, c, 'a map with applyTo, match and patch');
      return [];
    }
    const context = readEnum(ctx, `${field}.match.context`, c.match?.context, CONTEXTS);
    if (context === undefined && c.match?.context !== undefined && c.match?.context !== null) return [];
    const port = readPort(ctx, `${field}.match.listener.portNumber`, c.match?.listener?.portNumber);
    const patch: ReadPatch = { context, port, hcm: readHcm(c, field, ctx, port), proxyProtocol: readProxyProtocol(c, field, ctx) };
    return [patch];
  });
  if (raw.length > 0 && raw.every((c: any) => c?.match?.context === undefined)) {
    findings.push(finding(FindingSeverity.WARNING, ctx.where, 'no configPatch sets match.context, so every patch applies in every context (ANY): gateways, sidecar inbound and sidecar outbound',
      'set match.context to GATEWAY or SIDECAR_INBOUND on each patch'));
  }
  return { patches, onlyReachableThroughCdn: f.metadata?.annotations?.[ONLY_THROUGH_CDN_ANNOTATION] === 'true' };
}

function readHcm(c: any, field: string, ctx: ReadContext, port: number | undefined): ReadHcm | undefined {
  if (c.applyTo !== 'NETWORK_FILTER' || c.patch?.operation !== 'MERGE' || (c.match?.listener?.filterChain?.filter?.name ?? HCM_FILTER) !== HCM_FILTER) return undefined;
  const typed = c.patch?.value?.typed_config ?? c.patch?.value?.typedConfig ?? {};
  if (typeof typed !== 'object' || Array.isArray(typed)) {
    wrongShape(ctx, `${field}.patch.value.typed_config`, typed, 'a map');
    return undefined;
  }
  const tc = `${field}.patch.value.typed_config`;
  const extensions = readList(ctx, `${tc}.original_ip_detection_extensions`, typed.original_ip_detection_extensions);
  const xff = extensions.flatMap((e: any, j: number) => {
    if (e?.name !== XFF_DETECTION) return [];
    const config = e.typed_config ?? {};
    const ef = `${tc}.original_ip_detection_extensions[${j}].typed_config`;
    const cidrs = readList(ctx, `${ef}.xff_trusted_cidrs.cidrs`, config.xff_trusted_cidrs?.cidrs)
      .flatMap((r: unknown, k: number) => readCidrRange(ctx, `${ef}.xff_trusted_cidrs.cidrs[${k}]`, r) ?? []);
    return [{ hops: readInteger(ctx, `${ef}.xff_num_trusted_hops`, config.xff_num_trusted_hops, 0, UINT32_MAX), cidrs }];
  });
  const customHeaders = extensions.flatMap((e: any, j: number) => {
    if (e?.name !== CUSTOM_HEADER_DETECTION) return [];
    const config = e.typed_config ?? {};
    const headerName = readString(ctx, `${tc}.original_ip_detection_extensions[${j}].typed_config.header_name`, config.header_name);
    return headerName === undefined ? [] : [{ headerName, ...optionalRejectStatus(rejectStatusOf(config.reject_with_status)) }];
  });
  return {
    port,
    hops: readInteger(ctx, `${tc}.xff_num_trusted_hops`, typed.xff_num_trusted_hops, 0, UINT32_MAX),
    useRemoteAddress: readBoolean(ctx, `${tc}.use_remote_address`, typed.use_remote_address),
    extensions: extensions.length,
    xff,
    customHeaders,
  };
}

/** `reject_with_status.code` by name or number; an unknown code is what Envoy turns into 403. */
function rejectStatusOf(status: any): number | undefined {
  if (status === undefined || status === null) return undefined;
  const code = status.code;
  if (typeof code === 'number') return code >= 400 && code <= 511 ? code : 403;
  const byName = Object.entries(REJECT_STATUSES).find(([, name]) => name === code);
  return byName ? Number(byName[0]) : 403;
}

function optionalRejectStatus(rejectStatus: number | undefined): { rejectStatus?: number } {
  return rejectStatus === undefined ? {} : { rejectStatus };
}

function readProxyProtocol(c: any, field: string, ctx: ReadContext): { readonly optional: boolean } | undefined {
  const names = [PROXY_PROTOCOL_FILTER, LEGACY_PROXY_PROTOCOL_FILTER];
  if (c.applyTo === 'LISTENER_FILTER' && names.includes(c.patch?.value?.name)) {
    const optional = readBoolean(ctx, `${field}.patch.value.typed_config.allow_requests_without_proxy_protocol`, c.patch.value.typed_config?.allow_requests_without_proxy_protocol);
    return { optional: optional === true };
  }
  if (c.applyTo === 'LISTENER' && listOf(c.patch?.value?.listener_filters).some((l: any) => names.includes(l?.name))) return { optional: false };
  return undefined;
}

function patchesOf(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ReadPatch[] {
  return filters.flatMap(f => f.patches).filter(c => contexts.includes(c.context));
}

function hcmPatches(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ReadHcm[] {
  return patchesOf(filters, contexts).flatMap(c => c.hcm ?? []);
}

interface ListenerPp { readonly port?: number; readonly optional: boolean }

function proxyProtocolListenerPatches(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ListenerPp[] {
  return patchesOf(filters, contexts).flatMap(c => (c.proxyProtocol ? [{ port: c.port, optional: c.proxyProtocol.optional }] : []));
}

/** The patches of an EnvoyFilter that set the client address on sidecars, as the shared overlap check sees them. */
function xffFilterModelsOf(f: any, read: ReadEnvoyFilter, rootNamespaces: string[]): XffFilterModel[] {
  const namespace = namespaceOf(f);
  const selector = f.spec?.workloadSelector?.labels;
  const labels = selector !== null && typeof selector === 'object' && !Array.isArray(selector) ? selector : {};
  return hcmPatches([read], ['SIDECAR_INBOUND', 'ANY', undefined]).flatMap(hcm => {
    const settings = xffSettingsOf(hcm);
    if (settings === undefined) return [];
    return [{
      name: String(f.metadata?.name ?? 'unnamed'),
      namespace,
      rootNamespace: rootNamespaces.includes(namespace) ? namespace : DEFAULT_ROOT_NAMESPACE,
      selector: { ...labels },
      ...(hcm.port !== undefined ? { portNumber: hcm.port } : {}),
      settings,
    }];
  });
}

/** What one connection manager patch sets, with the precedence the sidecar's model uses; undefined when nothing. */
function xffSettingsOf(hcm: ReadHcm): XffFilterSettingsModel | undefined {
  const cidrs = hcm.xff.flatMap(x => x.cidrs);
  const hops = [hcm.hops, ...hcm.xff.map(x => x.hops)].filter((n): n is number => n !== undefined && n > 0);
  if (hcm.customHeaders.length > 0) return { mode: SidecarXffMode.CUSTOM_HEADER, cidrs: [] };
  if (cidrs.length > 0) return { mode: SidecarXffMode.TRUSTED_CIDRS, cidrs };
  if (hcm.useRemoteAddress === true) return { mode: SidecarXffMode.USE_REMOTE_ADDRESS, cidrs: [] };
  if (hops.length > 0) return { mode: SidecarXffMode.TRUSTED_HOPS, hops: hops[hops.length - 1], cidrs: [] };
  return undefined;
}

function parseWorkload(p: PodTemplateOwner, indexes: Indexes, namespaceLabels: Map<string, { [key: string]: string }>,
  findings: Finding[]): WorkloadModel {
  const where = `workload ${p.namespace}/${p.name}`;
  const nsLabels = namespaceLabels.get(p.namespace);
  const podMode = p.labels[DATAPLANE_MODE_LABEL];
  const ambient = podMode === AMBIENT_MODE || (podMode === undefined && nsLabels?.[DATAPLANE_MODE_LABEL] === AMBIENT_MODE);
  const filters = indexes.envoyFilters.matching([p.namespace, ...indexes.rootNamespaces], p.labels);
  const hcm = hcmPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined]);
  const xff = hcm.flatMap(v => v.xff);
  const trustedCidrs = xff.flatMap(x => x.cidrs);
  const hops = [...hcm.map(v => v.hops), ...xff.map(x => x.hops)].filter((n): n is number => n !== undefined && n > 0);
  const headers = hcm.flatMap(v => v.customHeaders);
  const header = headers.length > 0 ? headers[headers.length - 1] : undefined;
  const xffMode = header !== undefined ? SidecarXffMode.CUSTOM_HEADER
    : trustedCidrs.length > 0 ? SidecarXffMode.TRUSTED_CIDRS
      : hcm.some(v => v.useRemoteAddress === true) ? SidecarXffMode.USE_REMOTE_ADDRESS
        : hops.length > 0 ? SidecarXffMode.TRUSTED_HOPS : SidecarXffMode.DEFAULT;
  const relevant = hcm.filter(v => v.useRemoteAddress === true || (v.hops ?? 0) > 0 || v.extensions > 0);
  if (ambient && p.annotations['sidecar.istio.io/interceptionMode'] !== undefined) {
    findings.push(finding(FindingSeverity.WARNING, where, `sidecar.istio.io/interceptionMode ${shortValue(p.annotations['sidecar.istio.io/interceptionMode'])} does nothing: the pods are in ambient mode, without a sidecar; ztunnel intercepts them and keeps the caller's address`,
      'remove the annotation, or take the pods out of ambient mode (istio.io/dataplane-mode: none) if they need a sidecar'));
  }
  return {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    role: ambient ? ProxyRole.AMBIENT : ProxyRole.SIDECAR,
    interceptionMode: interceptionModeOf(p, where, findings),
    xffMode,
    xffTrustedHops: hops.length > 0 ? hops[hops.length - 1] : undefined,
    xffTrustedCidrs: trustedCidrs.length > 0 ? trustedCidrs : undefined,
    ...(header !== undefined ? {
      clientHeaderName: header.headerName.toLowerCase(),
      ...(header.rejectStatus !== undefined ? { clientHeaderRejectStatus: header.rejectStatus } : {}),
      ...(filters.some(f => f.onlyReachableThroughCdn) ? { onlyReachableThroughCdn: true } : {}),
    } : {}),
    xffPorts: relevant.flatMap(v => v.port === undefined ? [] : [v.port]),
    ...sidecarProxyProtocol(proxyProtocolListenerPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined])),
    ...(ambient ? ambientWaypoint(p, indexes, nsLabels) : {}),
  };
}

/**
 * The waypoint of an ambient workload: its pods' `istio.io/use-waypoint`, then its Service's, then its namespace's.
 * istiod sends ingress traffic through it only with `istio.io/ingress-use-waypoint` "true" on the Service (exact) or
 * the namespace (any case).
 */
function ambientWaypoint(p: PodTemplateOwner, indexes: Indexes,
  nsLabels: { [key: string]: string } | undefined): { waypoint?: string; ingressUseWaypoint?: boolean } {
  const services = indexes.services.matching(['*'], p.labels).filter(s => namespaceOf(s) === p.namespace);
  const service = services.find(s => labelsOf(s)[USE_WAYPOINT_LABEL] !== undefined) ?? services[0];
  const serviceLabels = service ? labelsOf(service) : undefined;
  const waypoint = resolveWaypoint(p.namespace, p.labels, serviceLabels, nsLabels);
  if (waypoint === undefined) return {};
  const ingress = serviceLabels?.[INGRESS_USE_WAYPOINT_LABEL] === 'true' || String(nsLabels?.[INGRESS_USE_WAYPOINT_LABEL] ?? '').toLowerCase() === 'true';
  return { waypoint, ...(ingress ? { ingressUseWaypoint: true } : {}) };
}

/** A sidecar's PROXY listener filter on its inbound listener (15006) covers every pod port. */
function sidecarProxyProtocol(patches: ListenerPp[]): { proxyProtocolPorts: number[]; proxyProtocolOnEveryPort?: boolean } {
  const everyPort = patches.some(l => l.port === undefined || l.port === SIDECAR_INBOUND_PORT);
  return {
    proxyProtocolPorts: patches.flatMap(l => l.port === undefined || l.port === SIDECAR_INBOUND_PORT ? [] : [l.port]),
    ...(everyPort ? { proxyProtocolOnEveryPort: true } : {}),
  };
}

function interceptionModeOf(p: PodTemplateOwner, where: string, findings: Finding[]): InterceptionMode {
  // The injector reads the annotation, else ProxyConfig: the pod's proxy.istio.io/config over the mesh default.
  const value = p.annotations['sidecar.istio.io/interceptionMode'] ?? proxyConfigOf(p)?.interceptionMode ?? p.mesh?.interceptionMode ?? 'REDIRECT';
  const mode = Object.values(InterceptionMode).find(m => m === value);
  if (mode === undefined) {
    findings.push(finding(FindingSeverity.ERROR, where, `sidecar.istio.io/interceptionMode ${shortValue(value)} is not allowed: the injector accepts exactly REDIRECT, TPROXY or NONE (case-sensitive)`,
      'set "TPROXY" to show the app the real peer address'));
    return InterceptionMode.REDIRECT;
  }
  return mode;
}

const CIDR_FIELDS: Array<{ key: string; field: ClientIpField; negated: boolean }> = [
  { key: 'ipBlocks', field: ClientIpField.IP_BLOCKS, negated: false },
  { key: 'notIpBlocks', field: ClientIpField.IP_BLOCKS, negated: true },
  { key: 'remoteIpBlocks', field: ClientIpField.REMOTE_IP_BLOCKS, negated: false },
  { key: 'notRemoteIpBlocks', field: ClientIpField.REMOTE_IP_BLOCKS, negated: true },
];

function parsePolicy(o: any, findings: Finding[], attachesToWaypoint: (namespace: string, ref: PolicyTargetRef) => boolean): PolicyModel[] {
  const name = o.metadata?.name ?? 'unnamed';
  const namespace = namespaceOf(o);
  const where = `AuthorizationPolicy ${namespace}/${name}`;
  const action = o.spec?.action === 'DENY' ? PolicyAction.DENY : PolicyAction.ALLOW;
  if (o.spec?.action !== undefined && !['ALLOW', 'DENY'].includes(o.spec.action)) {
    findings.push(finding(FindingSeverity.INFO, where, `action ${shortValue(o.spec.action)} is not evaluated by explain`, 'none needed'));
    return [];
  }
  const targetRefs = targetRefsOf(o);
  const waypointRefs = targetRefs.filter(r => attachesToWaypoint(namespace, r));
  const gatewayRefs = gatewayTargetRefs(o).filter(g => !waypointRefs.some(r => r.kind === g.ref.kind && r.name === g.ref.name));
  const refCount = listOf(o.spec?.targetRefs).length + (o.spec?.targetRef ? 1 : 0);
  if (refCount > waypointRefs.length + gatewayRefs.length) {
    findings.push(finding(FindingSeverity.WARNING, where, 'targetRefs is ignored by sidecars and classic gateways (it only attaches to Gateway API gateways and waypoints)',
      'use spec.selector.matchLabels for sidecars and classic gateways'));
  }
  // A policy attached to Gateway API gateways reaches their pods (one model per Gateway); one attached to waypoints
  // reaches no pods by labels, nor does any other targetRefs policy (kept in the model, enforced nowhere explain traces).
  const attachments: Array<{ selector: { [key: string]: string }; targetRefs?: PolicyTargetRef[] }> = [
    ...gatewayRefs.map(g => ({ selector: g.selector, targetRefs: [g.ref] })),
    ...(waypointRefs.length > 0 ? [{ selector: {}, targetRefs: waypointRefs }] : []),
  ];
  if (refCount === 0) attachments.push({ selector: o.spec?.selector?.matchLabels ?? {} });
  else if (attachments.length === 0 && targetRefs.length > 0) attachments.push({ selector: {}, targetRefs });
  const out: PolicyModel[] = [];
  headerConditionFindings(o, where, findings);
  for (const rule of listOf(o.spec?.rules)) {
    const operations = listOf(rule?.to).map((t: any) => t?.operation ?? {});
    const ports = operations.flatMap((op: any) => listOf(op.ports)).map(Number).filter((p: number) => Number.isInteger(p));
    const http = operations.some((op: any) => listOf(op.paths).length + listOf(op.methods).length > 0);
    for (const from of listOf(rule?.from)) {
      for (const f of CIDR_FIELDS) {
        const raw: string[] | undefined = from?.source?.[f.key];
        if (!Array.isArray(raw)) continue;
        out.push(...attachments.map(a => ({
          name,
          namespace,
          selector: a.selector,
          ...(a.targetRefs ? { targetRefs: a.targetRefs } : {}),
          action,
          field: f.field,
          negated: f.negated,
          cidrs: raw.flatMap(c => policyCidr(c, `${where} ${f.key}`, findings)),
          ...(ports.length > 0 ? { ports } : {}),
          ...(http ? { matchesHttpAttributes: true } : {}),
        })));
      }
    }
  }
  return out;
}

/** `spec.targetRefs` (and the older singular `targetRef`), entries without a kind and name left out. */
function targetRefsOf(o: any): PolicyTargetRef[] {
  const refs = [...listOf(o.spec?.targetRefs), ...(o.spec?.targetRef ? [o.spec.targetRef] : [])];
  return refs.flatMap((r: any) => typeof r?.kind === 'string' && typeof r?.name === 'string'
    ? [{ group: typeof r.group === 'string' ? r.group : '', kind: r.kind, name: r.name }] : []);
}

/** Headers that carry client addresses but are matched as exact strings by `request.headers[...]` conditions. */
const ADDRESS_HEADERS = ['x-forwarded-for', 'x-envoy-external-address', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-azure-clientip'];

/**
 * `when: request.headers[x-forwarded-for]` compares the whole header as a string (prefix/suffix/`*` at most):
 * a CIDR never matches, a list header matches only when it is exactly that string, and the client writes it
 * (istio/istio#54861).
 */
function headerConditionFindings(o: any, where: string, findings: Finding[]): void {
  const keys = new Set<string>();
  for (const rule of listOf(o.spec?.rules)) {
    for (const condition of listOf(rule?.when)) {
      const match = typeof condition?.key === 'string' ? /^request\.headers\[(.+)\]$/.exec(condition.key.trim()) : null;
      if (match && ADDRESS_HEADERS.includes(match[1].trim().toLowerCase())) keys.add(match[1].trim().toLowerCase());
    }
  }
  for (const header of keys) {
    findings.push(finding(FindingSeverity.WARNING, where,
      `compares client addresses through the header condition request.headers[${header}]: header conditions match exact strings (or a prefix/suffix), not CIDRs, so "10.0.0.0/8" never matches an address, an X-Forwarded-For list matches only as the whole string, and the client can write the header (istio/istio#54861)`,
      'match addresses with source.remoteIpBlocks (the client Envoy resolved) or source.ipBlocks (the peer), on the proxy whose topology makes that field the client'));
  }
}

/** istiod accepts host bits (Go netip.ParsePrefix) and masks them; so does explain, with a warning. */
function policyCidr(text: string, where: string, findings: Finding[]): string[] {
  try {
    return [parseCidr(text, where).text];
  } catch (e) {
    const message = (e as Error).message;
    if (/host bits set/.test(message)) {
      const network = ipaddr.IPv4.isValid(text.split('/')[0]) ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
      const masked = parseCidr(`${network.toString()}/${text.split('/')[1]}`).text;
      findings.push(finding(FindingSeverity.WARNING, where, `"${text}" has host bits set; istiod treats it as ${masked}`, `write "${masked}"`));
      return [masked];
    }
    findings.push(finding(FindingSeverity.ERROR, where, message, 'istiod rejects the policy; fix the CIDR'));
    return [];
  }
}

function dedupeGateways(gateways: TracedGateway[]): TracedGateway[] {
  const seen = new Set<string>();
  return gateways.filter(g => {
    const key = `${g.model.namespace}/${g.model.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A field that should be a list, as a list: anything else (a string, an object, null) reads as empty. */
function listOf(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}
