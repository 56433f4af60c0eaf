import * as ipaddr from 'ipaddr.js';
import { Finding, FindingSeverity } from './explain-report';
import {
  DEFAULT_ROOT_NAMESPACE, gatewayListenerPort, HCM_FILTER, LEGACY_PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_FILTER, SIDECAR_INBOUND_PORT, XFF_DETECTION,
} from '../envoy/names';
import {
  EXPECTED_TOPOLOGY_ANNOTATION, GATEWAY_SERVICE_ANNOTATION, ISTIO_VERSION_ANNOTATION, LB_PRESERVES_SOURCE_ANNOTATION, ROOT_NAMESPACE_ANNOTATION,
  TRUST_CHAIN_ANNOTATION as CHAIN_ANNOTATION,
} from '../model/annotations';
import { IstioVersion } from '../model/istio-version';
import { recogniseLoadBalancer } from '../model/load-balancers';
import {
  ClientIpField, ExternalTrafficPolicy, GatewayModel, InterceptionMode, PolicyAction, PolicyModel, ProxyProtocolMode,
  ProxyProtocolVersion, ProxyRole, ServerModel, SidecarXffMode, WorkloadModel,
} from '../model/model';
import { namespaceReaches, selectorMatches as selects } from '../model/selectors';
import { TrustChain } from '../model/trust-chain';
import { parseCidr } from '../net/cidr';

/*
 * Manifests (ours or hand-written) back into the shared model. Lenient: anything we cannot read becomes a
 * finding, never an exception, because explain must work on any cluster's YAML.
 */

/** Annotation on a gateway Service, Deployment or pod template that declares the hops in front of it. */
export const TRUST_CHAIN_ANNOTATION = CHAIN_ANNOTATION;

/** What the load balancer in front of a gateway does, read from Service annotations. */
export interface ParsedGateway {
  readonly model: GatewayModel;
  /** The Service type, e.g. LoadBalancer. */
  readonly serviceType?: string;
  /** True when a Service annotation makes the cloud LB send PROXY protocol. */
  readonly loadBalancerSendsProxyProtocol: boolean;
  /** The declared hops in front, from the trust-chain annotation. */
  readonly trustChain?: TrustChain;
  /** True when PROXY comes both from gatewayTopology and an EnvoyFilter. */
  readonly proxyProtocolTwice: boolean;
  /** `namespace/name` of the Istio Gateway resources bound to this gateway. */
  readonly gatewayResources: string[];
}

export interface ParsedManifests {
  /** The mesh's root namespaces: Istio's default plus any this library's annotation names. */
  readonly rootNamespaces: string[];
  /** The Istio release the manifests say they are for (the library's annotation), when they say so. */
  readonly istioVersion?: IstioVersion;
  /** `namespace/name` of workloads whose Service host has a DestinationRule that makes its callers send PROXY, with the version. */
  readonly proxyProtocolTo: Map<string, ProxyProtocolVersion>;
  readonly gateways: ParsedGateway[];
  readonly workloads: WorkloadModel[];
  readonly policies: PolicyModel[];
  readonly findings: Finding[];
  /** Workloads (`namespace/name`) a VirtualService routes to from each gateway (`namespace/name`); absent when no VirtualService binds it. */
  readonly routes: Map<string, Set<string>>;
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
}

/** What every parse step needs from the whole input. */
interface Context {
  readonly services: any[];
  readonly istioGateways: any[];
  readonly envoyFilters: any[];
  readonly rootNamespaces: string[];
  readonly findings: Finding[];
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job'];

export function parseManifests(input: any[]): ParsedManifests {
  const objects = input.filter(o => o && typeof o === 'object' && typeof o.kind === 'string');
  const findings: Finding[] = [];
  const pods = objects.filter(o => WORKLOAD_KINDS.includes(o.kind)).map(podTemplateOf);
  const services = objects.filter(o => o.kind === 'Service');
  const istioGateways = objects.filter(o => o.kind === 'Gateway' && String(o.apiVersion).startsWith('networking.istio.io/'));
  const envoyFilters = objects.filter(o => o.kind === 'EnvoyFilter');
  const rootNamespaces = [DEFAULT_ROOT_NAMESPACE, ...envoyFilters
    .map(f => f.metadata?.annotations?.[ROOT_NAMESPACE_ANNOTATION])
    .filter((ns: unknown): ns is string => typeof ns === 'string' && ns !== DEFAULT_ROOT_NAMESPACE)];
  const ctx: Context = { services, istioGateways, envoyFilters, rootNamespaces: [...new Set(rootNamespaces)], findings };
  const ambientNamespaces = new Set(objects.filter(o => o.kind === 'Namespace' && o.metadata?.labels?.['istio.io/dataplane-mode'] === 'ambient').map(o => o.metadata.name));

  const gatewayPods = pods.filter(p => isGatewayPod(p, istioGateways));
  const gateways = gatewayPods.map(p => parseGateway(p, ctx));
  for (const gw of istioGateways) {
    const selector = gw.spec?.selector ?? {};
    const ns = namespaceOf(gw);
    if (gatewayPods.some(p => selects(selector, p.labels))) continue;
    gateways.push(parseGateway(installedGateway(gw, selector, ns), ctx));
  }
  const workloads = pods
    .filter(p => !gatewayPods.includes(p))
    .filter(p => !injectionDisabled(p))
    .map(p => parseWorkload(p, ambientNamespaces, ctx));
  const policies = objects.filter(o => o.kind === 'AuthorizationPolicy').flatMap(o => parsePolicy(o, findings));
  const deduped = dedupeGateways(gateways);
  return {
    rootNamespaces: ctx.rootNamespaces,
    istioVersion: istioVersionOf(istioGateways, findings),
    proxyProtocolTo: proxyProtocolTargets(objects, services, workloads),
    gateways: deduped,
    workloads,
    policies,
    findings,
    routes: routesOf(deduped, workloads, objects, services),
  };
}

/** The newest Istio release named by this library's annotation on an Istio Gateway. */
function istioVersionOf(istioGateways: any[], findings: Finding[]): IstioVersion | undefined {
  const versions: IstioVersion[] = [];
  for (const gw of istioGateways) {
    const text = gw.metadata?.annotations?.[ISTIO_VERSION_ANNOTATION];
    if (text === undefined) continue;
    const supported = IstioVersion.all().find(v => v.label === String(text).trim().split('.').slice(0, 2).join('.'));
    if (supported) {versions.push(supported);} else {
      findings.push(finding(FindingSeverity.WARNING, `Gateway ${namespaceOf(gw)}/${gw.metadata?.name}`, `${ISTIO_VERSION_ANNOTATION} ${JSON.stringify(text)} is not a supported Istio release`,
        `write a release from ${IstioVersion.OLDEST.label} to ${IstioVersion.LATEST.label}, or pass --istio-version`));
    }
  }
  return versions.sort((a, b) => b.minor - a.minor)[0];
}

/** A Service host (`name`, `name.ns`, `name.ns.svc...`) as `[name, namespace]`, relative to `namespace`. */
function hostParts(host: string, namespace: string): [string, string] {
  const [name, ns = namespace] = host.split('.');
  return [name, ns];
}

/**
 * Workloads that receive PROXY protocol from every mesh client of their host: a DestinationRule with
 * `trafficPolicy.proxyProtocol` on a Service that selects them.
 */
function proxyProtocolTargets(objects: any[], services: any[], workloads: WorkloadModel[]): Map<string, ProxyProtocolVersion> {
  const targets = new Map<string, ProxyProtocolVersion>();
  for (const dr of objects.filter(o => o.kind === 'DestinationRule')) {
    const pp = dr.spec?.trafficPolicy?.proxyProtocol;
    if (pp === undefined || pp === null || typeof dr.spec?.host !== 'string') continue;
    const version = pp.version === 'V1' ? ProxyProtocolVersion.V1 : ProxyProtocolVersion.V2;
    const [name, ns] = hostParts(dr.spec.host, namespaceOf(dr));
    const svc = services.find(x => x.metadata?.name === name && namespaceOf(x) === ns);
    const selector = svc?.spec?.selector;
    const matches = (w: WorkloadModel) => w.namespace === ns && (selector ? selects(selector, w.selector) : w.name === name);
    workloads.filter(matches).forEach(w => targets.set(`${w.namespace}/${w.name}`, version));
  }
  return targets;
}

/** Follows VirtualServices bound to each gateway to the Services they route to, and those to workloads. */
function routesOf(gateways: ParsedGateway[], workloads: WorkloadModel[], objects: any[], services: any[]): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  const virtualServices = objects.filter(o => o.kind === 'VirtualService');
  for (const gw of gateways) {
    const bound = virtualServices.filter(vs => listOf(vs.spec?.gateways).some((g: unknown) =>
      typeof g === 'string' && gw.gatewayResources.includes(g.includes('/') ? g : `${namespaceOf(vs)}/${g}`)));
    if (bound.length === 0) continue;
    const targets = new Set<string>();
    for (const vs of bound) {
      const hosts: string[] = ['http', 'tcp', 'tls'].flatMap(k => listOf(vs.spec?.[k]).flatMap((r: any) => listOf(r?.route).map((d: any) => d?.destination?.host)));
      for (const host of hosts.filter(h => typeof h === 'string')) {
        const [name, ns] = hostParts(host, namespaceOf(vs));
        const svc = services.find(x => x.metadata?.name === name && namespaceOf(x) === ns);
        const selector = svc?.spec?.selector;
        // A backend known only by its host (no Service in the input) is the workload of that name, if any.
        const matches = (w: WorkloadModel) => w.namespace === ns && (selector ? selects(selector, w.selector) : w.name === name);
        workloads.filter(matches).forEach(w => targets.add(`${w.namespace}/${w.name}`));
      }
    }
    routes.set(`${gw.model.namespace}/${gw.model.name}`, targets);
  }
  return routes;
}

/** Splits multi-document YAML into objects; a document that is a List is flattened. */
export function parseYamlDocuments(text: string, source = 'input'): any[] {
  const docs = yamlParser().parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const out: any[] = [];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1} is not valid YAML: ${doc.errors[0].message}`);
    let value: any;
    try {
      value = doc.toJS();
    } catch (e) {
      // e.g. an alias whose anchor is missing: yaml throws a ReferenceError, which explain reports as bad input.
      throw new Error(`${source}: document ${i + 1} is not valid YAML: ${(e as Error).message}`);
    }
    if (value && value.kind === 'List' && Array.isArray(value.items)) out.push(...value.items);
    else if (value !== null && value !== undefined) out.push(value);
  });
  return out;
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

function isGatewayPod(p: PodTemplateOwner, istioGateways: any[]): boolean {
  if (p.annotations['inject.istio.io/templates'] === 'gateway') return true;
  if (p.labels.istio === 'ingressgateway' || p.labels['gateway.networking.k8s.io/gateway-name'] !== undefined) return true;
  if (proxyConfigOf(p)?.gatewayTopology !== undefined) return true;
  return istioGateways.some(g => Object.keys(g.spec?.selector ?? {}).length > 0 && selects(g.spec.selector, p.labels));
}

function injectionDisabled(p: PodTemplateOwner): boolean {
  return p.labels['sidecar.istio.io/inject'] === 'false' || p.annotations['sidecar.istio.io/inject'] === 'false';
}

function proxyConfigOf(p: PodTemplateOwner, findings?: Finding[]): any {
  const text = p.annotations['proxy.istio.io/config'];
  if (text === undefined) return undefined;
  try {
    return yamlParser().parse(text) ?? {};
  } catch (e) {
    findings?.push(finding(FindingSeverity.ERROR, `${p.kind} ${p.namespace}/${p.name}`,
      `proxy.istio.io/config is not valid JSON or YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the annotation; the injector rejects it'));
    return undefined;
  }
}

/** The gateway's Service: one that selects its pods (same namespace first), else the one attach mode names. */
function serviceOf(p: PodTemplateOwner, services: any[]): any {
  const selecting = services.filter(s => Object.keys(s.spec?.selector ?? {}).length > 0 && selects(s.spec.selector, p.labels));
  const named = p.gatewayResourceAnnotations?.[GATEWAY_SERVICE_ANNOTATION] !== undefined
    ? services.find(s => s.metadata?.name === p.name && namespaceOf(s) === p.namespace) : undefined;
  return selecting.find(s => namespaceOf(s) === p.namespace) ?? named ?? selecting[0];
}

/** `gatewayTopology` of the pods, or for an attached installation the one this library told them to run with. */
function gatewayTopologyOf(p: PodTemplateOwner, where: string, findings: Finding[]): any {
  const fromPods = proxyConfigOf(p, findings)?.gatewayTopology;
  if (fromPods !== undefined) return fromPods;
  const expected = p.gatewayResourceAnnotations?.[EXPECTED_TOPOLOGY_ANNOTATION];
  if (expected === undefined) return {};
  try {
    const topology = JSON.parse(expected);
    if (Number(topology?.numTrustedProxies ?? 0) > 0 || topology?.proxyProtocol !== undefined) {
      findings.push(finding(FindingSeverity.INFO, where, `assumed the installation's pods run with gatewayTopology ${expected}, as ${EXPECTED_TOPOLOGY_ANNOTATION} says (attach mode does not change them)`,
        `set proxy.istio.io/config to {"gatewayTopology":${expected}} on the installation's pods`));
    }
    return topology ?? {};
  } catch (e) {
    findings.push(finding(FindingSeverity.WARNING, where, `${EXPECTED_TOPOLOGY_ANNOTATION} is not JSON: ${(e as Error).message}`, 'write the gatewayTopology as JSON'));
    return {};
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

function parseGateway(p: PodTemplateOwner, ctx: Context): ParsedGateway {
  const { istioGateways, findings } = ctx;
  const where = `gateway ${p.namespace}/${p.name}`;
  const service = serviceOf(p, ctx.services);
  const topology = gatewayTopologyOf(p, where, findings);
  const filters = ctx.envoyFilters.filter(f => filterApplies(f, p, ctx.rootNamespaces));
  const hcmHops = hcmPatches(filters, ['GATEWAY', 'ANY', undefined]).map(v => v.xff_num_trusted_hops).filter(n => typeof n === 'number' && n > 0);
  const numTrustedProxies = hcmHops.length > 0 ? hcmHops[hcmHops.length - 1] : Number(topology.numTrustedProxies ?? 0);
  const listenerPp = proxyProtocolListenerPatches(filters, ['GATEWAY', 'ANY', undefined]);
  const topologyPp = topology.proxyProtocol !== undefined && topology.proxyProtocol !== null;
  const proxyProtocol = topologyPp ? ProxyProtocolMode.STRICT
    : listenerPp.length === 0 ? ProxyProtocolMode.OFF
      : listenerPp.some(l => l.optional) ? ProxyProtocolMode.OPTIONAL : ProxyProtocolMode.STRICT_PER_PORT;
  const bound = istioGateways.filter(g => Object.keys(g.spec?.selector ?? {}).length > 0 && selects(g.spec.selector, p.labels));
  const targetPorts = targetPortsOf(service);
  // An installation this library attached to keeps the Istio chart's convention (80 -> 8080) where its Service is not in the input.
  const attached = p.gatewayResourceAnnotations?.[GATEWAY_SERVICE_ANNOTATION] !== undefined;
  const servers: ServerModel[] = bound
    .flatMap(g => listOf(g.spec?.servers).map((s: any) => {
      const port = Number(s.port?.number);
      const targetPort = targetPorts.get(port) ?? (attached && Number.isInteger(port) ? gatewayListenerPort(port) : undefined);
      return {
        port,
        protocol: String(s.port?.protocol ?? 'HTTP').toUpperCase(),
        hosts: listOf(s.hosts),
        ...(typeof s.tls?.mode === 'string' ? { tlsMode: s.tls.mode } : {}),
        ...(targetPort !== undefined ? { targetPort } : {}),
      };
    }));
  const serviceAnnotations = service?.metadata?.annotations ?? {};
  const lb = recogniseLoadBalancer(serviceAnnotations, service?.spec?.loadBalancerClass);
  const annotations = { ...(p.gatewayResourceAnnotations ?? {}), ...serviceAnnotations, ...p.ownerAnnotations, ...p.annotations };
  const model: GatewayModel = {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    externalTrafficPolicy: service?.spec?.externalTrafficPolicy === 'Local' ? ExternalTrafficPolicy.LOCAL : ExternalTrafficPolicy.CLUSTER,
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
    serviceType: service?.spec?.type,
    loadBalancerSendsProxyProtocol: lb.sendsProxyProtocol,
    trustChain: trustChainOf(annotations[TRUST_CHAIN_ANNOTATION], where, findings),
    proxyProtocolTwice: topologyPp && listenerPp.length > 0,
    gatewayResources: bound.map(g => `${namespaceOf(g)}/${g.metadata?.name}`),
  };
}

/**
 * The server (Service) ports of PROXY listener patches, which match gateway listener ports: a listener port maps
 * back to the server whose targetPort it is. A patch without a port covers every server.
 */
function servicePortsOf(patches: ListenerPp[], servers: ServerModel[]): number[] {
  const ports: number[] = [];
  const add = (p: number) => {
    if (!ports.includes(p)) ports.push(p);
  };
  for (const patch of patches) {
    if (patch.port === undefined) servers.forEach(s => add(s.port));
    else add(servers.find(s => (s.targetPort ?? s.port) === patch.port)?.port ?? patch.port);
  }
  return ports.sort((a, b) => a - b);
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

function filterApplies(f: any, p: PodTemplateOwner, rootNamespaces: string[]): boolean {
  if (f.spec?.targetRefs !== undefined) return false; // ignored by sidecars and classic gateways
  return namespaceReaches(namespaceOf(f), p.namespace, rootNamespaces) && selects(f.spec?.workloadSelector?.labels ?? {}, p.labels);
}

function patchesOf(filters: any[], applyTo: string, contexts: Array<string | undefined>): any[] {
  return filters.flatMap(f => listOf(f.spec?.configPatches)).filter((c: any) => c?.applyTo === applyTo && contexts.includes(c.match?.context));
}

function hcmPatches(filters: any[], contexts: Array<string | undefined>): any[] {
  return patchesOf(filters, 'NETWORK_FILTER', contexts)
    .filter(c => c.patch?.operation === 'MERGE' && (c.match?.listener?.filterChain?.filter?.name ?? HCM_FILTER) === HCM_FILTER)
    .map(c => ({ ...(c.patch?.value?.typed_config ?? c.patch?.value?.typedConfig ?? {}), port: c.match?.listener?.portNumber }));
}

interface ListenerPp { readonly port?: number; readonly optional: boolean }

function proxyProtocolListenerPatches(filters: any[], contexts: Array<string | undefined>): ListenerPp[] {
  const viaListenerFilter = patchesOf(filters, 'LISTENER_FILTER', contexts)
    .filter(c => [PROXY_PROTOCOL_FILTER, LEGACY_PROXY_PROTOCOL_FILTER].includes(c.patch?.value?.name))
    .map(c => ({ port: c.match?.listener?.portNumber, optional: c.patch.value.typed_config?.allow_requests_without_proxy_protocol === true }));
  const viaListener = patchesOf(filters, 'LISTENER', contexts)
    .filter(c => listOf(c.patch?.value?.listener_filters).some((l: any) => [PROXY_PROTOCOL_FILTER, LEGACY_PROXY_PROTOCOL_FILTER].includes(l?.name)))
    .map(c => ({ port: c.match?.listener?.portNumber, optional: false }));
  return [...viaListenerFilter, ...viaListener];
}

function parseWorkload(p: PodTemplateOwner, ambientNamespaces: Set<string>, ctx: Context): WorkloadModel {
  const findings = ctx.findings;
  const where = `workload ${p.namespace}/${p.name}`;
  const ambient = p.labels['istio.io/dataplane-mode'] === 'ambient' || ambientNamespaces.has(p.namespace);
  const filters = ctx.envoyFilters.filter(f => filterApplies(f, p, ctx.rootNamespaces));
  const hcm = hcmPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined]);
  const xff = hcm.flatMap(v => listOf(v.original_ip_detection_extensions)
    .filter((e: any) => e?.name === XFF_DETECTION)
    .map((e: any) => ({ ...(e.typed_config ?? {}), port: v.port })));
  const trustedCidrs = xff.flatMap(x => listOf(x.xff_trusted_cidrs?.cidrs).map((c: any) => `${c.address_prefix}/${c.prefix_len ?? (String(c.address_prefix).includes(':') ? 128 : 32)}`));
  const hops = [...hcm.map(v => v.xff_num_trusted_hops), ...xff.map(x => x.xff_num_trusted_hops)].filter(n => typeof n === 'number' && n > 0);
  const xffMode = trustedCidrs.length > 0 ? SidecarXffMode.TRUSTED_CIDRS
    : hcm.some(v => v.use_remote_address === true) ? SidecarXffMode.USE_REMOTE_ADDRESS
      : hops.length > 0 ? SidecarXffMode.TRUSTED_HOPS : SidecarXffMode.DEFAULT;
  const relevant = hcm.filter(v => v.use_remote_address === true || v.xff_num_trusted_hops > 0
    || listOf(v.original_ip_detection_extensions).length > 0);
  return {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    role: ambient ? ProxyRole.AMBIENT : ProxyRole.SIDECAR,
    interceptionMode: interceptionModeOf(p, where, findings),
    xffMode,
    xffTrustedHops: hops.length > 0 ? hops[hops.length - 1] : undefined,
    xffTrustedCidrs: trustedCidrs.length > 0 ? trustedCidrs : undefined,
    xffPorts: relevant.flatMap(v => v.port === undefined ? [] : [v.port]),
    ...sidecarProxyProtocol(proxyProtocolListenerPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined])),
  };
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
  const value = p.annotations['sidecar.istio.io/interceptionMode'] ?? proxyConfigOf(p)?.interceptionMode ?? 'REDIRECT';
  const mode = Object.values(InterceptionMode).find(m => m === value);
  if (mode === undefined) {
    findings.push(finding(FindingSeverity.ERROR, where, `sidecar.istio.io/interceptionMode "${value}" is not allowed: the injector accepts exactly REDIRECT, TPROXY or NONE (case-sensitive)`,
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

function parsePolicy(o: any, findings: Finding[]): PolicyModel[] {
  const name = o.metadata?.name ?? 'unnamed';
  const namespace = namespaceOf(o);
  const where = `AuthorizationPolicy ${namespace}/${name}`;
  const action = o.spec?.action === 'DENY' ? PolicyAction.DENY : PolicyAction.ALLOW;
  if (o.spec?.action !== undefined && !['ALLOW', 'DENY'].includes(o.spec.action)) {
    findings.push(finding(FindingSeverity.INFO, where, `action ${o.spec.action} is not evaluated by explain`, 'none needed'));
    return [];
  }
  if (o.spec?.targetRefs !== undefined || o.spec?.targetRef !== undefined) {
    findings.push(finding(FindingSeverity.WARNING, where, 'targetRefs is ignored by sidecars and classic gateways (it only attaches to Gateway API gateways and waypoints)',
      'use spec.selector.matchLabels for sidecars and classic gateways'));
  }
  const selector = o.spec?.selector?.matchLabels ?? {};
  const out: PolicyModel[] = [];
  for (const rule of listOf(o.spec?.rules)) {
    const operations = listOf(rule?.to).map((t: any) => t?.operation ?? {});
    const ports = operations.flatMap((op: any) => listOf(op.ports)).map(Number).filter((p: number) => Number.isInteger(p));
    const http = operations.some((op: any) => listOf(op.paths).length + listOf(op.methods).length > 0);
    for (const from of listOf(rule?.from)) {
      for (const f of CIDR_FIELDS) {
        const raw: string[] | undefined = from?.source?.[f.key];
        if (!Array.isArray(raw)) continue;
        out.push({
          name,
          namespace,
          selector,
          action,
          field: f.field,
          negated: f.negated,
          cidrs: raw.flatMap(c => policyCidr(c, `${where} ${f.key}`, findings)),
          ...(ports.length > 0 ? { ports } : {}),
          ...(http ? { matchesHttpAttributes: true } : {}),
        });
      }
    }
  }
  return out;
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

function dedupeGateways(gateways: ParsedGateway[]): ParsedGateway[] {
  const seen = new Set<string>();
  return gateways.filter(g => {
    const key = `${g.model.namespace}/${g.model.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function finding(severity: FindingSeverity, where: string, message: string, fix: string): Finding {
  return { severity, where, message, fix };
}

/** The YAML parser, loaded on first use: only `explain` needs it, and constructs should not pay for it at `require`. */
function yamlParser(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml');
}

/** A field that should be a list, as a list: anything else (a string, an object, null) reads as empty. */
function listOf(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}
