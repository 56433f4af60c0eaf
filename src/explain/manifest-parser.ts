import * as ipaddr from 'ipaddr.js';
import { Finding, FindingSeverity } from './explain-report';
import { CUSTOM_HEADER_DETECTION, HCM_FILTER, PROXY_PROTOCOL_FILTER, XFF_DETECTION } from '../envoy/names';
import { REJECT_STATUSES } from '../envoy/original-ip-detection';
import {
  ClientIpField, ExternalTrafficPolicy, GatewayModel, InterceptionMode, PolicyAction, PolicyModel, ProxyProtocolMode,
  ProxyRole, ServerModel, SidecarXffMode, WorkloadModel,
} from '../model/model';
import { TrustChain } from '../model/trust-chain';
import { parseCidr } from '../net/cidr';

/*
 * Manifests (ours or hand-written) back into the shared model. Lenient: anything we cannot read becomes a
 * finding, never an exception, because explain must work on any cluster's YAML.
 */

/** Annotation on a gateway Service, Deployment or pod template that declares the hops in front of it. */
export const TRUST_CHAIN_ANNOTATION = TrustChain.ANNOTATION;

const ROOT_NAMESPACE = 'istio-system';
const LEGACY_PROXY_PROTOCOL_FILTER = 'envoy.listener.proxy_protocol';

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
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job'];

export function parseManifests(input: any[]): ParsedManifests {
  const objects = input.filter(o => o && typeof o === 'object' && typeof o.kind === 'string');
  const findings: Finding[] = [];
  const pods = objects.filter(o => WORKLOAD_KINDS.includes(o.kind)).map(podTemplateOf);
  const services = objects.filter(o => o.kind === 'Service');
  const istioGateways = objects.filter(o => o.kind === 'Gateway' && String(o.apiVersion).startsWith('networking.istio.io/'));
  const envoyFilters = objects.filter(o => o.kind === 'EnvoyFilter');
  const ambientNamespaces = new Set(objects.filter(o => o.kind === 'Namespace' && o.metadata?.labels?.['istio.io/dataplane-mode'] === 'ambient').map(o => o.metadata.name));

  const gatewayPods = pods.filter(p => isGatewayPod(p, istioGateways));
  const gateways = gatewayPods.map(p => parseGateway(p, services, istioGateways, envoyFilters, findings));
  for (const gw of istioGateways) {
    const selector = gw.spec?.selector ?? {};
    const ns = namespaceOf(gw);
    if (gatewayPods.some(p => selects(selector, p.labels))) continue;
    gateways.push(parseGateway(installedGateway(gw, selector, ns), services, istioGateways, envoyFilters, findings));
  }
  const workloads = pods
    .filter(p => !gatewayPods.includes(p))
    .filter(p => !injectionDisabled(p))
    .map(p => parseWorkload(p, envoyFilters, ambientNamespaces, findings));
  const policies = objects.filter(o => o.kind === 'AuthorizationPolicy').flatMap(o => parsePolicy(o, findings));
  const deduped = dedupeGateways(gateways);
  return { gateways: deduped, workloads, policies, findings, routes: routesOf(deduped, workloads, objects, services) };
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
        const [name, ns = namespaceOf(vs)] = host.split('.');
        const svc = services.find(x => x.metadata?.name === name && namespaceOf(x) === ns);
        const selector = svc?.spec?.selector;
        if (!selector) continue;
        workloads.filter(w => w.namespace === ns && selects(selector, w.selector)).forEach(w => targets.add(`${w.namespace}/${w.name}`));
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

function installedGateway(gw: any, selector: { [key: string]: string }, ns: string): PodTemplateOwner {
  const name = selector.istio ?? selector.app ?? gw.metadata?.name ?? 'gateway';
  return { kind: 'Gateway selector', name, namespace: ns, labels: selector, annotations: {}, ownerAnnotations: {} };
}

function selects(selector: { [key: string]: string }, labels: { [key: string]: string }): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
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

function parseGateway(p: PodTemplateOwner, services: any[], istioGateways: any[], envoyFilters: any[], findings: Finding[]): ParsedGateway {
  const where = `gateway ${p.namespace}/${p.name}`;
  const selecting = services.filter(s => Object.keys(s.spec?.selector ?? {}).length > 0 && selects(s.spec.selector, p.labels));
  const service = selecting.find(s => namespaceOf(s) === p.namespace) ?? selecting[0];
  const topology = proxyConfigOf(p, findings)?.gatewayTopology ?? {};
  const filters = envoyFilters.filter(f => filterApplies(f, p));
  const gatewayHcm = hcmPatches(filters, ['GATEWAY', 'ANY', undefined]);
  gatewayHcmFindings(gatewayHcm, where, findings);
  const hcmHops = gatewayHcm.map(v => v.xff_num_trusted_hops).filter(n => typeof n === 'number' && n > 0);
  const numTrustedProxies = hcmHops.length > 0 ? hcmHops[hcmHops.length - 1] : Number(topology.numTrustedProxies ?? 0);
  const listenerPp = proxyProtocolListenerPatches(filters, ['GATEWAY', 'ANY', undefined]);
  const topologyPp = topology.proxyProtocol !== undefined && topology.proxyProtocol !== null;
  const proxyProtocol = topologyPp ? ProxyProtocolMode.STRICT
    : listenerPp.length === 0 ? ProxyProtocolMode.OFF
      : listenerPp.some(l => l.optional) ? ProxyProtocolMode.OPTIONAL : ProxyProtocolMode.STRICT_PER_PORT;
  const bound = istioGateways.filter(g => Object.keys(g.spec?.selector ?? {}).length > 0 && selects(g.spec.selector, p.labels));
  const servers: ServerModel[] = bound
    .flatMap(g => listOf(g.spec?.servers).map((s: any) => ({
      port: Number(s.port?.number), protocol: String(s.port?.protocol ?? 'HTTP').toUpperCase(), hosts: listOf(s.hosts), tlsMode: s.tls?.mode,
    })));
  const annotations = { ...(service?.metadata?.annotations ?? {}), ...p.ownerAnnotations, ...p.annotations };
  const model: GatewayModel = {
    name: p.name,
    namespace: p.namespace,
    selector: p.labels,
    externalTrafficPolicy: service?.spec?.externalTrafficPolicy === 'Local' ? ExternalTrafficPolicy.LOCAL : ExternalTrafficPolicy.CLUSTER,
    loadBalancerPreservesSource: preservesSource(service?.metadata?.annotations ?? {}),
    numTrustedProxies,
    proxyProtocol,
    proxyProtocolPorts: listenerPp.flatMap(l => l.port === undefined ? [] : [l.port]),
    servers,
    serviceName: service?.metadata?.name,
  };
  return {
    model,
    serviceType: service?.spec?.type,
    loadBalancerSendsProxyProtocol: sendsProxyProtocol(service?.metadata?.annotations ?? {}),
    trustChain: trustChainOf(annotations[TRUST_CHAIN_ANNOTATION], where, findings),
    proxyProtocolTwice: topologyPp && listenerPp.length > 0,
    gatewayResources: bound.map(g => `${namespaceOf(g)}/${g.metadata?.name}`),
  };
}

/**
 * Gateways always have use_remote_address true: Envoy rejects the listener when a patch adds original-IP-detection
 * extensions to it, and a MERGE of use_remote_address false is silently dropped (istio/istio#18169).
 */
function gatewayHcmFindings(patches: any[], where: string, findings: Finding[]): void {
  if (patches.some(v => listOf(v.original_ip_detection_extensions).length > 0)) {
    findings.push(finding(FindingSeverity.ERROR, where,
      'an EnvoyFilter adds original_ip_detection_extensions (trusted CIDRs or a client header) to the gateway\'s connection manager, which has use_remote_address true: Envoy rejects the listener ("Original IP detection extensions and use_remote_address may not be mixed"; envoyproxy/envoy#40873)',
      'keep the gateway on numTrustedProxies and resolve the client on the sidecars behind it (XffSidecarFilter with XffTrust.trustedCidrs or XffTrust.clientHeader; docs/cdn.md)'));
  }
  if (patches.some(v => v.use_remote_address === false || v.use_remote_address?.value === false)) {
    findings.push(finding(FindingSeverity.WARNING, where,
      'an EnvoyFilter MERGE sets use_remote_address false on the gateway: Istio merges protobufs field by field and never copies a false value, so the gateway keeps use_remote_address true (istio/istio#18169)',
      'remove the setting; a gateway cannot be switched to use_remote_address false by an EnvoyFilter'));
  }
}

function preservesSource(a: { [key: string]: string }): boolean {
  const ipTargets = a['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'] === 'ip'
    && /preserve_client_ip\.enabled=true/.test(a['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'] ?? '');
  return ipTargets || a['service.cloud.tencent.com/direct-access'] === 'true';
}

function sendsProxyProtocol(a: { [key: string]: string }): boolean {
  return a['service.beta.kubernetes.io/aws-load-balancer-proxy-protocol'] === '*'
    || /proxy_protocol_v2\.enabled=true/.test(a['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'] ?? '')
    || a['service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol'] === 'on'
    || a['service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol'] === 'true'
    || a['service.beta.kubernetes.io/azure-pls-proxy-protocol'] === 'true';
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

function filterApplies(f: any, p: PodTemplateOwner): boolean {
  const ns = namespaceOf(f);
  if (f.spec?.targetRefs !== undefined) return false; // ignored by sidecars and classic gateways
  const labels = f.spec?.workloadSelector?.labels;
  if (labels && Object.keys(labels).length > 0) return (ns === p.namespace || ns === ROOT_NAMESPACE) && selects(labels, p.labels);
  return ns === p.namespace || ns === ROOT_NAMESPACE;
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

function parseWorkload(p: PodTemplateOwner, envoyFilters: any[], ambientNamespaces: Set<string>, findings: Finding[]): WorkloadModel {
  const where = `workload ${p.namespace}/${p.name}`;
  const ambient = p.labels['istio.io/dataplane-mode'] === 'ambient' || ambientNamespaces.has(p.namespace);
  const filters = envoyFilters.filter(f => filterApplies(f, p));
  const hcm = hcmPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined]);
  const xff = hcm.flatMap(v => listOf(v.original_ip_detection_extensions)
    .filter((e: any) => e?.name === XFF_DETECTION)
    .map((e: any) => ({ ...(e.typed_config ?? {}), port: v.port })));
  const trustedCidrs = xff.flatMap(x => listOf(x.xff_trusted_cidrs?.cidrs).map((c: any) => `${c.address_prefix}/${c.prefix_len ?? (String(c.address_prefix).includes(':') ? 128 : 32)}`));
  const hops = [...hcm.map(v => v.xff_num_trusted_hops), ...xff.map(x => x.xff_num_trusted_hops)].filter(n => typeof n === 'number' && n > 0);
  const customHeader = hcm.flatMap(v => listOf(v.original_ip_detection_extensions))
    .filter((e: any) => e?.name === CUSTOM_HEADER_DETECTION && typeof e.typed_config?.header_name === 'string')
    .map((e: any) => e.typed_config);
  const header = customHeader.length > 0 ? customHeader[customHeader.length - 1] : undefined;
  const xffMode = header !== undefined ? SidecarXffMode.CUSTOM_HEADER
    : trustedCidrs.length > 0 ? SidecarXffMode.TRUSTED_CIDRS
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
    ...(header !== undefined ? {
      clientHeaderName: String(header.header_name).toLowerCase(),
      clientHeaderRejectStatus: rejectStatusOf(header.reject_with_status),
    } : {}),
    xffPorts: relevant.flatMap(v => v.port === undefined ? [] : [v.port]),
    proxyProtocolPorts: proxyProtocolListenerPatches(filters, ['SIDECAR_INBOUND', 'ANY', undefined]).map(l => l.port ?? 15006),
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
  headerConditionFindings(o, where, findings);
  for (const rule of listOf(o.spec?.rules)) {
    for (const from of listOf(rule?.from)) {
      for (const f of CIDR_FIELDS) {
        const raw: string[] | undefined = from?.source?.[f.key];
        if (!Array.isArray(raw)) continue;
        out.push({ name, namespace, selector, action, field: f.field, negated: f.negated, cidrs: raw.flatMap(c => policyCidr(c, `${where} ${f.key}`, findings)) });
      }
    }
  }
  return out;
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
