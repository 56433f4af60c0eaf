import { lastHeader } from './client-headers';
import { ListenerPp, ReadHcm, clientHeaderPatches, hcmPatches, proxyProtocolListenerPatches } from './envoy-filters';
import { Indexes } from './indexes';
import { PodTemplateOwner, listOf, namespaceOf, proxyConfigOf } from './objects';
import { DEFAULT_ROOT_NAMESPACE, GATEWAY_INJECT_TEMPLATE, gatewayListenerPort, INJECT_TEMPLATES_ANNOTATION } from '../../envoy/names';
import { EXPECTED_TOPOLOGY_ANNOTATION, GATEWAY_SERVICE_ANNOTATION, ISTIO_VERSION_ANNOTATION, LB_PRESERVES_SOURCE_ANNOTATION, NODE_ADDRESS_ACCEPTED_ANNOTATION, STATUS_PORT_PROXY_PROTOCOL_ENV, TRUST_CHAIN_ANNOTATION } from '../../model/annotations';
import { finding } from '../../model/finding-text';
import { GATEWAY_NAME_LABEL } from '../../model/gateway-api';
import { IstioVersion } from '../../model/istio-version';
import { loadBalancerFacts } from '../../model/load-balancer-facts';
import { ExternalTrafficPolicy, GatewayModel, ProxyProtocolMode, ServerModel } from '../../model/model';
import { EnvSetting, MAX_ASSUMED_PROXIES, TracedGateway } from '../../model/trace-model';
import { TrustChain } from '../../model/trust-chain';
import { AgentEnv, envOf } from '../agent-env';
import { Finding, FindingSeverity } from '../explain-report';
import { GatewayApiGateway } from '../gateway-api-reader';
import { fieldsLostByReplacement } from '../mesh-config';
import { ReadContext, UINT32_MAX, readEnum, readInteger, readList, readPort, readString, shortValue, wrongShape } from '../read-values';
import { objectWhere } from '../skipped';

/* Ingress gateways (pods, Istio Gateways, installations) into the trace's gateways. */

/** The newest Istio release named by this library's annotation on a Gateway (Istio's or the Gateway API's). */
export function istioVersionOf(istioGateways: any[], findings: Finding[]): IstioVersion | undefined {
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
 * A gateway installation known only by an Istio Gateway's selector. This library's attach mode names the
 * installation's Service (`namespace/name`) in an annotation; its partial Service has no selector.
 */
export function installedGateway(gw: any, selector: { [key: string]: string }, ns: string): PodTemplateOwner {
  const annotations = gw.metadata?.annotations ?? {};
  const service = typeof annotations[GATEWAY_SERVICE_ANNOTATION] === 'string' ? String(annotations[GATEWAY_SERVICE_ANNOTATION]).split('/') : [];
  const name = service.length === 2 ? service[1] : selector.istio ?? selector.app ?? gw.metadata?.name ?? 'gateway';
  const namespace = service.length === 2 ? service[0] : ns;
  return { kind: 'Gateway selector', name, namespace, labels: selector, annotations: {}, ownerAnnotations: {}, gatewayResourceAnnotations: annotations };
}

export function isGatewayPod(p: PodTemplateOwner, indexes: Indexes): boolean {
  if (p.installed) return true;
  if (p.annotations[INJECT_TEMPLATES_ANNOTATION] === GATEWAY_INJECT_TEMPLATE) return true;
  if (p.labels.istio === 'ingressgateway' || p.labels[GATEWAY_NAME_LABEL] !== undefined) return true;
  if (proxyConfigOf(p)?.gatewayTopology !== undefined) return true;
  return indexes.istioGateways.matching(['*'], p.labels).length > 0;
}

export function parseGateway(p: PodTemplateOwner, indexes: Indexes, findings: Finding[], gatewayApi?: GatewayApiGateway): TracedGateway {
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
    ...lastHeader(clientHeaderPatches(filters, ['GATEWAY', 'ANY', undefined])),
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

export function dedupeGateways(gateways: TracedGateway[]): TracedGateway[] {
  const seen = new Set<string>();
  return gateways.filter(g => {
    const key = `${g.model.namespace}/${g.model.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
