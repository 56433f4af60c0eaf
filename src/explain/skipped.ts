import { SkippedObject } from './explain-report';
import { describeOrigin, isListObject, NonObjectDocument, originOf, rememberOrigin } from './input';
import { shortValue } from './read-values';
import { WAYPOINT_GATEWAY_CLASS } from '../model/ambient';
import { ISTIO_GATEWAY_CLASS } from '../model/gateway-api';

/*
 * Which objects explain reads, and why it leaves out the others: every object given to explain is either used
 * or listed as skipped with the reason and the fix, never dropped without a word.
 */

const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job'];
const ISTIO_NETWORKING = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];
const ISTIO_SECURITY = ['security.istio.io/v1', 'security.istio.io/v1beta1'];
const GATEWAY_API = 'gateway.networking.k8s.io';

/** The kinds explain reads, with the API versions a current cluster serves for them. */
const SERVED: { [kind: string]: readonly string[] } = {
  Deployment: ['apps/v1'],
  StatefulSet: ['apps/v1'],
  DaemonSet: ['apps/v1'],
  ReplicaSet: ['apps/v1'],
  Pod: ['v1'],
  Job: ['batch/v1'],
  Service: ['v1'],
  Namespace: ['v1'],
  Gateway: [...ISTIO_NETWORKING, `${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`],
  HTTPRoute: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`],
  TCPRoute: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1alpha2`],
  TLSRoute: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1alpha2`],
  VirtualService: ISTIO_NETWORKING,
  DestinationRule: ISTIO_NETWORKING,
  EnvoyFilter: ['networking.istio.io/v1alpha3'],
  AuthorizationPolicy: ISTIO_SECURITY,
  IstioOperator: ['install.istio.io/v1alpha1'],
  ProxyConfig: ['networking.istio.io/v1beta1'],
};

/** True for a kind explain reads (ConfigMap aside: only Istio's mesh and gateway-overlay ConfigMaps are read), case-insensitively. */
export function isReadKind(kind: string): boolean {
  const lower = kind.toLowerCase();
  return Object.keys(SERVED).some(k => k.toLowerCase() === lower);
}

const TOP_LEVEL_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];

/** Kinds that cannot change which client address a hop sees. */
const HARMLESS_KINDS = [
  'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'HorizontalPodAutoscaler', 'ReferenceGrant',
  'PodDisruptionBudget', 'CustomResourceDefinition', 'PersistentVolumeClaim', 'ResourceQuota', 'LimitRange', 'PriorityClass',
];

/** Envoy v2 type URLs removed from Envoy (1.18), with the v3 type that replaces them. */
const V2_TYPES: { [v2: string]: string } = {
  'envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager': 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'envoy.config.filter.listener.proxy_protocol.v2.ProxyProtocol': 'envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol',
  'envoy.config.filter.http.rbac.v2.RBAC': 'envoy.extensions.filters.http.rbac.v3.RBAC',
  'envoy.api.v2.Listener': 'envoy.config.listener.v3.Listener',
  'envoy.api.v2.Cluster': 'envoy.config.cluster.v3.Cluster',
};

/** True for the name of the ConfigMap istiod reads its meshConfig from: `istio`, or `istio-<revision>`. */
export function isMeshConfigMapName(name: unknown): boolean {
  return typeof name === 'string' && /^istio(-[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(name) && !NOT_MESH_CONFIG_MAPS.includes(name);
}

/** ConfigMaps Istio writes whose names look like a revision's mesh ConfigMap but hold something else. */
const NOT_MESH_CONFIG_MAPS = ['istio-ca-root-cert', 'istio-sidecar-injector', 'istio-leader', 'istio-namespace-controller-election', 'istio-gateway-status-leader'];

/** The objects explain reads, and the ones it leaves out with the reason. */
export interface Classified {
  readonly used: any[];
  readonly skipped: SkippedObject[];
}

/** Names an object for messages: "EnvoyFilter apps/xff". */
export function objectName(o: any): string {
  const kind = typeof o?.kind === 'string' ? o.kind : 'object without kind';
  const meta = isMap(o?.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : 'unnamed';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  return `${kind} ${namespace}/${name}`;
}

/** The object's name and, when it was read from text, where: "EnvoyFilter apps/xff (a.yaml document 3)". */
export function objectWhere(o: any): string {
  const source = describeOrigin(originOf(o));
  return source ? `${objectName(o)} (${source})` : objectName(o);
}

function skip(o: unknown, reason: string, fix: string): SkippedObject {
  const source = describeOrigin(originOf(o));
  return { object: isMap(o) ? objectName(o) : `${Array.isArray(o) ? 'list' : typeof o} ${shortValue(o)}`, reason, fix, ...(source ? { source } : {}) };
}

function ownValue<T>(table: { readonly [key: string]: T }, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

function isMap(v: unknown): v is { [key: string]: any } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Splits the input into the objects explain reads and the skipped ones; the last of two identical objects wins. */
export function classifyObjects(input: unknown[]): Classified {
  const skipped: SkippedObject[] = [];
  const candidates: any[] = [];
  const objects = readableObjects(input);
  const parameters = gatewayParameters(objects);
  for (const o of objects) {
    const why = isMap(o) && o.kind === 'ConfigMap' && o.apiVersion === 'v1' && isMap(o.metadata) && parameters.has(`${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`)
      ? wrongShape(o) : whySkipped(o);
    if (why) skipped.push(why);
    else candidates.push(o);
  }
  // kubectl apply keeps the last of two objects with the same identity, so explain does too.
  const last = new Map<string, any>();
  for (const o of candidates) last.set(identity(o), o);
  const used: any[] = [];
  for (const o of candidates) {
    const winner = last.get(identity(o));
    if (winner === o) {
      used.push(o);
      continue;
    }
    const later = describeOrigin(originOf(winner));
    skipped.push(skip(o, `duplicate object: another ${o.kind} with the same API group, namespace and name${later ? ` (${later})` : ''} replaces it when applied`,
      'give one of them another name or namespace, or delete the stale copy'));
  }
  return { used, skipped };
}

/** Kinds the tools that apply them read without `metadata`: istioctl names an IstioOperator itself. */
const WITHOUT_METADATA = ['IstioOperator'];

/**
 * The input as kubectl and istioctl read it: a List given as an object (kind `List` or `<Kind>List`, with or
 * without metadata) is its items, and an IstioOperator without metadata (as istio.io's tasks write it for
 * `istioctl install -f`) gets an empty one.
 */
function readableObjects(input: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const o of input) {
    if (isListObject(o)) {
      out.push(...o.items.filter(item => item !== null && item !== undefined));
    } else if (isMap(o) && WITHOUT_METADATA.includes(o.kind) && o.metadata === undefined) {
      const named = { ...o, metadata: {} };
      const origin = originOf(o);
      if (origin) rememberOrigin(named, origin);
      out.push(named);
    } else {
      out.push(o);
    }
  }
  return out;
}

/** `namespace/name` of the ConfigMaps Gateway API Gateways name as parametersRef: explain reads those, no others. */
function gatewayParameters(input: unknown[]): Set<string> {
  const names = new Set<string>();
  for (const o of input) {
    if (!isMap(o) || o.kind !== 'Gateway' || !String(o.apiVersion).startsWith(`${GATEWAY_API}/`)) continue;
    const ref = isMap(o.spec) && isMap(o.spec.infrastructure) ? o.spec.infrastructure.parametersRef : undefined;
    if (isMap(ref) && ref.kind === 'ConfigMap' && typeof ref.name === 'string') names.add(`${isMap(o.metadata) ? o.metadata.namespace ?? 'default' : 'default'}/${ref.name}`);
  }
  return names;
}

function identity(o: any): string {
  const group = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0] : '';
  return JSON.stringify([group, o.kind, o.metadata?.namespace ?? 'default', o.metadata?.name ?? '']);
}

function whySkipped(o: unknown): SkippedObject | undefined {
  if (o instanceof NonObjectDocument) {
    const source = describeOrigin(originOf(o));
    const what = `${Array.isArray(o.value) ? 'list' : typeof o.value} ${shortValue(o.value)}`;
    return {
      object: `document ${what}`,
      reason: 'not a Kubernetes object (a map with apiVersion and kind): kubectl refuses this document too, and explain reads the others',
      fix: 'remove it (a stray line between --- separators?), or write the object as a YAML map',
      ...(source ? { source } : {}),
    };
  }
  if (!isMap(o)) return skip(o, 'not a Kubernetes object (a map with apiVersion and kind)', 'remove it, or write the object as a YAML map');
  const capitalised = Object.keys(o).filter(k => !TOP_LEVEL_KEYS.includes(k) && TOP_LEVEL_KEYS.includes(lowerFirst(k)));
  if (capitalised.length > 0) {
    const keys = capitalised.map(k => `"${k}"`).join(', ');
    return skip(o, `${capitalised.length === 1 ? `key ${keys} is` : `keys ${keys} are`} capitalised: Kubernetes keys are case-sensitive (pasted from a web page?)`,
      `write ${capitalised.map(k => `"${lowerFirst(k)}"`).join(', ')}`);
  }
  if (o.kind === undefined && o.apiVersion === undefined) {
    const chart = helmChartOf(o);
    if (chart) {
      return skip(o, `it has no kind and apiVersion: it looks like Helm values of the ${chart} chart, not a Kubernetes object`,
        `pass the values file with --helm-values ${chart}=<file> (ExplainOptions.helmValues in the library)`);
    }
  }
  if (typeof o.kind !== 'string') return skip(o, `kind ${shortValue(o.kind)} is not a string`, 'set kind, e.g. kind: Deployment');
  if (o.metadata === undefined) {
    return skip(o, 'it has no metadata: kubectl and the API server refuse an object without metadata.name (only IstioOperator and List are read without it)', 'give metadata with name and namespace');
  }
  if (!isMap(o.metadata)) return skip(o, `metadata ${shortValue(o.metadata)} is not a map`, 'give metadata with name and namespace');
  if (o.metadata.name !== undefined && typeof o.metadata.name !== 'string') return skip(o, `metadata.name ${shortValue(o.metadata.name)} is not a string`, 'quote the name');
  if (o.metadata.namespace !== undefined && typeof o.metadata.namespace !== 'string') return skip(o, `metadata.namespace ${shortValue(o.metadata.namespace)} is not a string`, 'quote the namespace');
  if (o.kind === 'ConfigMap' && isMeshConfigMapName(o.metadata.name) && o.apiVersion === 'v1') {
    const mesh = meshConfigMapProblem(o);
    if (mesh !== 'not a mesh ConfigMap') return mesh;
  }
  // Own keys only: a kind such as "toString" must not find Object.prototype's members.
  const served = ownValue(SERVED, o.kind);
  if (o.kind === 'Gateway' && String(o.apiVersion).startsWith(`${GATEWAY_API}/`)) {
    const skipped = unreadGatewayApiGateway(o);
    if (skipped) return skipped;
  }
  if (served === undefined) {
    const other = Object.keys(SERVED).find(k => k.toLowerCase() === o.kind.toLowerCase());
    return other
      ? skip(o, `kind "${o.kind}" is not a kind: kinds are case-sensitive`, `write kind: ${other}`)
      : skip(o, `kind ${o.kind} is not read by explain`, HARMLESS_KINDS.includes(o.kind)
        ? 'none needed: it does not change the client address'
        : 'none: explain does not model this kind; check by hand what it does to the client address');
  }
  if (!served.includes(String(o.apiVersion))) {
    return skip(o, `apiVersion ${shortValue(o.apiVersion)} is not served for ${o.kind}`, `use apiVersion: ${served[0]}`);
  }
  return wrongShape(o);
}

/** Keys that mark a kind-less document as the values of an Istio chart. */
function helmChartOf(o: { [key: string]: any }): string | undefined {
  if (o.meshConfig !== undefined || o.pilot !== undefined || isMap(o._internal_defaults_do_not_set) && o._internal_defaults_do_not_set.meshConfig !== undefined) return 'istiod';
  if (o.podAnnotations !== undefined || (isMap(o.service) && o.metadata === undefined)) return 'gateway';
  return undefined;
}

/**
 * The ConfigMap istiod reads (`istio`, `istio-<revision>`) is used when `data.mesh` is a string; a value of another
 * type cannot be what runs. A ConfigMap of that name without `data.mesh` is some other ConfigMap.
 */
function meshConfigMapProblem(o: any): SkippedObject | undefined | 'not a mesh ConfigMap' {
  if (o.data !== undefined && o.data !== null && !isMap(o.data)) return skip(o, `data ${shortValue(o.data)} is not a map`, 'write data as key: "value" pairs');
  const mesh = o.data?.mesh;
  if (mesh === undefined || mesh === null) return 'not a mesh ConfigMap';
  if (typeof mesh !== 'string') {
    return skip(o, `data.mesh ${shortValue(mesh)} is not a string: ConfigMap data values are strings, so the API server refuses it and istiod cannot read it`,
      'write the meshConfig as a block string: "mesh: |" followed by the indented YAML');
  }
  return wrongShape(o);
}

/**
 * Gateway API Gateways explain does not trace: other classes than Istio's ingress (waypoints are the ambient
 * model's), and manually deployed ones (linked to their Service by a Hostname address).
 */
function unreadGatewayApiGateway(o: any): SkippedObject | undefined {
  const className = o.spec?.gatewayClassName;
  if (className === WAYPOINT_GATEWAY_CLASS) return undefined;
  if (className !== ISTIO_GATEWAY_CLASS) {
    return skip(o, `Gateway of class ${shortValue(className)} is not Istio's (class istio): another controller deploys it`, 'none: explain traces Istio gateways only');
  }
  const addresses = Array.isArray(o.spec?.addresses) ? o.spec.addresses : [];
  if (addresses.some((a: any) => a?.type === 'Hostname')) {
    return skip(o, 'Gateway with a Hostname address is deployed manually: explain does not link it to that Service\'s pods', 'none: explain traces gateways Istio deploys');
  }
  return undefined;
}

function lowerFirst(k: string): string {
  return k.charAt(0).toLowerCase() + k.slice(1);
}

/** Objects whose fields have the wrong type: the API server would refuse them, so they cannot be what runs. */
function wrongShape(o: any): SkippedObject | undefined {
  const spec = o.spec;
  if (spec !== undefined && !isMap(spec)) return skip(o, `spec ${shortValue(spec)} is not a map`, 'write spec as a map of fields');
  const expect = (value: unknown, field: string, type: 'map' | 'list' | 'string map'): SkippedObject | undefined => {
    if (value === undefined || value === null) return undefined;
    const ok = type === 'list' ? Array.isArray(value) : isMap(value) && (type === 'map' || Object.values(value).every(v => typeof v === 'string'));
    if (ok) return undefined;
    const fix = type === 'list' ? `write ${field} as a YAML list` : type === 'map' ? `write ${field} as a map` : `write ${field} as key: "value" pairs with string values`;
    return skip(o, `${field} ${shortValue(value)} is not a ${type === 'string map' ? 'map of strings' : type}`, fix);
  };
  const checks: Array<() => SkippedObject | undefined> = [
    () => expect(o.metadata.labels, 'metadata.labels', 'string map'),
    () => expect(o.metadata.annotations, 'metadata.annotations', 'string map'),
  ];
  if (WORKLOADS.includes(o.kind) && o.kind !== 'Pod') {
    checks.push(() => expect(spec?.template, 'spec.template', 'map'),
      () => expect(spec?.template?.metadata, 'spec.template.metadata', 'map'),
      () => expect(spec?.template?.metadata?.labels, 'spec.template.metadata.labels', 'string map'),
      () => expect(spec?.template?.metadata?.annotations, 'spec.template.metadata.annotations', 'string map'));
  }
  if (o.kind === 'Service') checks.push(() => expect(spec?.selector, 'spec.selector', 'string map'));
  if (o.kind === 'Gateway') {
    checks.push(() => expect(spec?.selector, 'spec.selector', 'string map'), () => expect(spec?.servers, 'spec.servers', 'list'),
      () => expect(spec?.listeners, 'spec.listeners', 'list'), () => expect(spec?.infrastructure, 'spec.infrastructure', 'map'),
      () => expect(spec?.infrastructure?.annotations, 'spec.infrastructure.annotations', 'string map'));
  }
  if (['HTTPRoute', 'TCPRoute', 'TLSRoute'].includes(o.kind)) {
    checks.push(() => expect(spec?.parentRefs, 'spec.parentRefs', 'list'), () => expect(spec?.rules, 'spec.rules', 'list'));
  }
  if (o.kind === 'ConfigMap') checks.push(() => expect(o.data, 'data', 'string map'));
  if (o.kind === 'ProxyConfig') {
    checks.push(() => expect(spec?.selector, 'spec.selector', 'map'),
      () => expect(spec?.selector?.matchLabels, 'spec.selector.matchLabels', 'string map'),
      () => expect(spec?.environmentVariables, 'spec.environmentVariables', 'string map'));
  }
  if (o.kind === 'VirtualService') {
    checks.push(() => expect(spec?.gateways, 'spec.gateways', 'list'),
      ...['http', 'tcp', 'tls'].map(k => () => expect(spec?.[k], `spec.${k}`, 'list')));
  }
  if (o.kind === 'DestinationRule') {
    checks.push(() => (spec?.host === undefined || typeof spec.host === 'string' ? undefined
      : skip(o, `spec.host ${shortValue(spec.host)} is not a string`, 'write the Service host, e.g. svc-b.apps.svc.cluster.local')),
    () => expect(spec?.trafficPolicy, 'spec.trafficPolicy', 'map'),
    () => expect(spec?.trafficPolicy?.proxyProtocol, 'spec.trafficPolicy.proxyProtocol', 'map'));
  }
  if (o.kind === 'EnvoyFilter') {
    checks.push(() => expect(spec?.configPatches, 'spec.configPatches', 'list'),
      () => expect(spec?.workloadSelector, 'spec.workloadSelector', 'map'),
      () => expect(spec?.workloadSelector?.labels, 'spec.workloadSelector.labels', 'string map'),
      () => v2TypeUrl(o));
  }
  if (o.kind === 'AuthorizationPolicy') {
    checks.push(() => expect(spec?.selector, 'spec.selector', 'map'), () => expect(spec?.targetRefs, 'spec.targetRefs', 'list'),
      () => expect(spec?.selector?.matchLabels, 'spec.selector.matchLabels', 'string map'),
      () => expect(spec?.rules, 'spec.rules', 'list'),
      () => policySources(o));
  }
  for (const check of checks) {
    const result = check();
    if (result) return result;
  }
  return undefined;
}

const CIDR_KEYS = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'];

function policySources(o: any): SkippedObject | undefined {
  const rules: unknown[] = o.spec?.rules ?? [];
  for (const [r, rule] of rules.entries()) {
    if (!isMap(rule)) return skip(o, `spec.rules[${r}] ${shortValue(rule)} is not a map`, 'write each rule as a map with from, to and when');
    if (rule.from === undefined) continue;
    if (!Array.isArray(rule.from)) return skip(o, `spec.rules[${r}].from ${shortValue(rule.from)} is not a list`, `write spec.rules[${r}].from as a YAML list`);
    for (const [f, from] of rule.from.entries()) {
      const source = isMap(from) ? from.source : undefined;
      if (!isMap(from) || (source !== undefined && !isMap(source))) {
        return skip(o, `spec.rules[${r}].from[${f}] ${shortValue(from)} is not a map with a source map`, 'write - source: { ipBlocks: [...] }');
      }
      for (const key of CIDR_KEYS) {
        const value = source?.[key];
        if (value === undefined || (Array.isArray(value) && value.every(v => typeof v === 'string'))) continue;
        return skip(o, `spec.rules[${r}].from[${f}].source.${key} ${shortValue(value)} is not a list of strings`,
          `write ${key} as a list, e.g. ${key}: [${JSON.stringify(typeof value === 'string' ? value : '203.0.113.0/24')}]`);
      }
    }
  }
  return undefined;
}

/** Envoy v2 type URLs: Envoy removed the v2 API, so istiod cannot apply the patch. */
function v2TypeUrl(o: any): SkippedObject | undefined {
  const patches: unknown[] = o.spec?.configPatches ?? [];
  for (const [i, patch] of patches.entries()) {
    const url = findTypeUrl(isMap(patch) ? patch.patch?.value : undefined, 0);
    if (url === undefined) continue;
    const type = url.replace(/^type\.googleapis\.com\//, '');
    const v3 = ownValue(V2_TYPES, type);
    return skip(o, `spec.configPatches[${i}] uses the Envoy v2 type URL "${url}": Envoy removed the v2 API (1.18), so istiod cannot apply the patch`,
      v3 ? `use "type.googleapis.com/${v3}"` : 'use the v3 type of the same filter (type.googleapis.com/envoy.extensions.filters...v3...)');
  }
  return undefined;
}

/** The first v2 `@type` in a patch value, looked for a few levels deep and a few entries wide (bounded work per patch). */
function findTypeUrl(value: unknown, depth: number): string | undefined {
  if (depth > 6 || value === null || typeof value !== 'object') return undefined;
  if (isMap(value) && typeof value['@type'] === 'string' && isV2(value['@type'])) return value['@type'];
  for (const v of (Array.isArray(value) ? value : Object.values(value)).slice(0, 32)) {
    const found = findTypeUrl(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function isV2(url: string): boolean {
  return /(^|\/)envoy\.(config\.filter\.[\w.]+\.v2(alpha)?\.|api\.v2\.)/.test(url);
}
