import { escapeForTerminal } from './escape';
import { Finding, FindingSeverity } from './explain-report';
import { HelmChart, HelmValues } from './helm-values';
import { parseEmbeddedDocument, rememberOrigin } from './input';
import { ReadContext, readEnum, readInteger, readString, shortValue, UINT32_MAX, wrongShape } from './read-values';
import { isMeshConfigMapName, objectWhere } from './skipped';
import {
  DEFAULT_ROOT_NAMESPACE, GATEWAY_INJECT_TEMPLATE, gatewayListenerPort, INJECT_TEMPLATES_ANNOTATION, MESH_CONFIG_MAP, REVISION_LABEL,
  SIDECAR_INJECT_LABEL, STATUS_PORT, STATUS_PORT_NAME,
} from '../envoy/names';
import { IstioVersion } from '../model/istio-version';
import { InterceptionMode } from '../model/model';

/*
 * The mesh-wide settings users keep outside the workload manifests: meshConfig in the `istio` ConfigMap that
 * istiod reads (`istio-<revision>` for a revision), in an IstioOperator, or in the values of the istiod Helm
 * chart; and the gateways that an IstioOperator or the gateway Helm chart installs, as the Deployment and Service
 * those would render.
 *
 * istio-agent applies a pod's proxy.istio.io/config over meshConfig.defaultConfig field by field at the top level
 * of ProxyConfig, replacing a message such as gatewayTopology as a whole (pilot-agent getMeshConfig, jsonpb merge).
 */

/** The revision of pods without an `istio.io/rev` label, and of the `istio` ConfigMap. */
export const DEFAULT_REVISION = 'default';

const FORWARD_CLIENT_CERT = ['UNDEFINED', 'SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'];

/** How much a source says about what istiod reads: the ConfigMap is what it reads; the others render it. */
enum Rank { HELM_VALUES = 1, ISTIO_OPERATOR = 2, CONFIG_MAP = 3 }

/** The settings of one istiod revision's meshConfig that decide which client address a hop sees, each checked. */
export interface MeshDefaults {
  readonly revision: string;
  /** Where it was read, e.g. "ConfigMap istio-system/istio (mesh.yaml document 1)". */
  readonly source: string;
  /** The field path of meshConfig in the source, e.g. "data.mesh" or "spec.meshConfig". */
  readonly field: string;
  readonly rootNamespace: string;
  /** `defaultConfig.gatewayTopology`, with only the fields explain checked and reads. */
  readonly gatewayTopology?: { readonly numTrustedProxies?: number; readonly proxyProtocol?: object; readonly forwardClientCertDetails?: string };
  readonly interceptionMode?: InterceptionMode;
  /** `defaultConfig.proxyMetadata`: environment of every proxy container (string values only). */
  readonly proxyMetadata?: { readonly [key: string]: string };
  readonly rank: Rank;
}

/** What explain takes from the mesh-wide settings. */
export interface MeshSettings {
  /** The meshConfig that applies, per revision. */
  readonly byRevision: Map<string, MeshDefaults>;
  /** The root namespaces the meshConfigs name (none when no meshConfig is in the input). */
  readonly rootNamespaces: string[];
  /** Deployments and Services of the gateways installed by IstioOperators and gateway Helm releases. */
  readonly installedGateways: any[];
  /** The newest supported Istio release an IstioOperator installs (`spec.tag`), when one names it. */
  readonly istioVersion?: IstioVersion;
}

/** Reads every meshConfig source (ConfigMaps, IstioOperators, Helm values) and the gateways they install. */
export function readMeshSettings(objects: any[], helmValues: readonly HelmValues[], findings: Finding[]): MeshSettings {
  const candidates: MeshDefaults[] = [];
  const installedGateways: any[] = [];
  const versions: IstioVersion[] = [];
  for (const o of objects) {
    if (o.kind === 'ConfigMap' && isMeshConfigMapName(o.metadata?.name) && typeof o.data?.mesh === 'string') {
      const mesh = meshFromConfigMap(o, findings);
      if (mesh) candidates.push(mesh);
    }
    if (o.kind === 'IstioOperator') {
      const mesh = meshFromIstioOperator(o, findings);
      if (mesh) candidates.push(mesh);
      installedGateways.push(...gatewaysOfIstioOperator(o, findings));
      versions.push(...istioVersionOfTag(o.spec?.tag));
    }
  }
  for (const h of helmValues) {
    if (h.chart === HelmChart.ISTIOD) candidates.push(meshFromIstiodValues(h, findings));
    else installedGateways.push(...gatewayOfHelmValues(h, findings));
  }
  const byRevision = pickPerRevision(candidates, findings);
  return {
    byRevision,
    rootNamespaces: [...new Set([...byRevision.values()].map(m => m.rootNamespace))],
    installedGateways,
    ...(versions.length > 0 ? { istioVersion: versions.sort((a, b) => b.minor - a.minor)[0] } : {}),
  };
}

/** The supported release an image tag such as "1.24.2" or "1.25.0-distroless" names; none for "latest" or a release explain does not model. */
function istioVersionOfTag(tag: unknown): IstioVersion[] {
  const match = typeof tag === 'string' || typeof tag === 'number' ? /^(\d+)\.(\d+)/.exec(String(tag)) : null;
  if (!match) return [];
  const label = `${Number(match[1])}.${Number(match[2])}`;
  return IstioVersion.all().filter(v => v.label === label);
}

/** The meshConfig that applies to pods of `revision`, with an INFO finding when only other revisions' are known. */
export function meshFor(settings: MeshSettings, revision: string | undefined, where: string, findings: Finding[]): MeshDefaults | undefined {
  const rev = revision === undefined || revision === '' ? DEFAULT_REVISION : revision;
  const mesh = settings.byRevision.get(rev);
  if (mesh === undefined && settings.byRevision.size > 0) {
    findings.push({
      severity: FindingSeverity.INFO,
      where,
      message: `its pods belong to Istio revision ${shortValue(rev)} (istio.io/rev), but the input holds meshConfig only for ${[...settings.byRevision.keys()].map(r => `"${r}"`).join(', ')}: explain assumes Istio's defaults for it`,
      fix: `add the ConfigMap ${rev === DEFAULT_REVISION ? MESH_CONFIG_MAP : `${MESH_CONFIG_MAP}-${rev}`} (kubectl get configmap -n istio-system -o yaml) to the input`,
    });
  }
  return mesh;
}

function meshFromConfigMap(o: any, findings: Finding[]): MeshDefaults | undefined {
  const where = objectWhere(o);
  const name: string = o.metadata.name;
  let mesh: unknown;
  try {
    mesh = parseEmbeddedDocument(o.data.mesh, 'data.mesh');
  } catch (e) {
    findings.push({
      severity: FindingSeverity.ERROR,
      where,
      message: `data.mesh cannot be read: ${escapeForTerminal(firstLine(e))}; istiod cannot apply this meshConfig either, and explain ignores it`,
      fix: 'fix the YAML in data.mesh (kubectl edit configmap); check it with: kubectl get configmap -n istio-system istio -o jsonpath={.data.mesh} | yq .',
    });
    return undefined;
  }
  const revision = name === MESH_CONFIG_MAP ? DEFAULT_REVISION : name.slice(`${MESH_CONFIG_MAP}-`.length);
  return readMesh(mesh ?? {}, { where, findings }, 'data.mesh', revision, Rank.CONFIG_MAP, DEFAULT_ROOT_NAMESPACE);
}

function meshFromIstioOperator(o: any, findings: Finding[]): MeshDefaults | undefined {
  const where = objectWhere(o);
  const spec = isMap(o.spec) ? o.spec : {};
  const values = isMap(spec.values) ? spec.values : {};
  const ctx: ReadContext = { where, findings };
  const pilot = isMap(spec.components) && isMap(spec.components.pilot) ? spec.components.pilot.enabled : undefined;
  const hasMesh = spec.meshConfig !== undefined || values.meshConfig !== undefined;
  if (pilot === false || (spec.profile === 'empty' && pilot !== true)) {
    if (hasMesh) {
      findings.push({
        severity: FindingSeverity.INFO,
        where,
        message: `its meshConfig is not used: it installs no istiod (${pilot === false ? 'components.pilot.enabled false' : `profile ${spec.profile}`}), and meshConfig goes into istiod's ConfigMap`,
        fix: 'set meshConfig on the IstioOperator (or Helm release) that installs istiod',
      });
    }
    return undefined;
  }
  const fromValues = values.meshConfig === undefined ? {} : values.meshConfig;
  const fromSpec = spec.meshConfig === undefined ? {} : spec.meshConfig;
  if (!isMap(fromValues)) return wrongShape(ctx, 'spec.values.meshConfig', fromValues, 'a map');
  if (!isMap(fromSpec)) return wrongShape(ctx, 'spec.meshConfig', fromSpec, 'a map');
  // istioctl merges spec.meshConfig over spec.values.meshConfig, and the istiod chart renders the result.
  const mesh = mergeValues(fromValues, fromSpec);
  const revision = readString(ctx, 'spec.revision', spec.revision) || DEFAULT_REVISION;
  const istioNamespace = isMap(values.global) && typeof values.global.istioNamespace === 'string' ? values.global.istioNamespace : undefined;
  const field = spec.meshConfig !== undefined ? 'spec.meshConfig' : 'spec.values.meshConfig';
  return readMesh(mesh, ctx, field, revision, Rank.ISTIO_OPERATOR, istioNamespace || o.metadata?.namespace || DEFAULT_ROOT_NAMESPACE);
}

function meshFromIstiodValues(h: HelmValues, findings: Finding[]): MeshDefaults {
  const where = h.source ?? 'istiod Helm values';
  const ctx: ReadContext = { where, findings };
  const values = chartValues(h.values);
  const mesh = values.meshConfig ?? {};
  const revision = readString(ctx, 'revision', values.revision) || DEFAULT_REVISION;
  const istioNamespace = isMap(values.global) && typeof values.global.istioNamespace === 'string' ? values.global.istioNamespace : undefined;
  // The chart renders rootNamespace from meshConfig.rootNamespace, else global.istioNamespace.
  const root = istioNamespace || DEFAULT_ROOT_NAMESPACE;
  return readMesh(mesh, ctx, 'meshConfig', revision, Rank.HELM_VALUES, root)
    ?? { revision, source: where, field: 'meshConfig', rootNamespace: root, rank: Rank.HELM_VALUES };
}

/** Reads and checks the fields of one meshConfig map that explain uses. */
function readMesh(mesh: unknown, ctx: ReadContext, field: string, revision: string, rank: Rank, defaultRoot: string): MeshDefaults | undefined {
  if (!isMap(mesh)) return wrongShape(ctx, field, mesh, 'a map of meshConfig fields (rootNamespace, defaultConfig, ...)');
  const root = readString(ctx, `${field}.rootNamespace`, mesh.rootNamespace);
  const base = { revision, source: ctx.where, field, rootNamespace: root || defaultRoot, rank };
  const defaultConfig = mesh.defaultConfig;
  if (defaultConfig === undefined || defaultConfig === null) return base;
  if (!isMap(defaultConfig)) {
    wrongShape(ctx, `${field}.defaultConfig`, defaultConfig, 'a map of ProxyConfig fields');
    return base;
  }
  const mode = readEnum(ctx, `${field}.defaultConfig.interceptionMode`, defaultConfig.interceptionMode, Object.values(InterceptionMode));
  const interceptionMode = Object.values(InterceptionMode).find(m => m === mode);
  const gatewayTopology = readTopology(ctx, `${field}.defaultConfig.gatewayTopology`, defaultConfig.gatewayTopology);
  const proxyMetadata = stringMap(ctx, `${field}.defaultConfig.proxyMetadata`, defaultConfig.proxyMetadata);
  return {
    ...base,
    ...(interceptionMode ? { interceptionMode } : {}),
    ...(gatewayTopology ? { gatewayTopology } : {}),
    ...(Object.keys(proxyMetadata).length > 0 ? { proxyMetadata } : {}),
  };
}

function readTopology(ctx: ReadContext, field: string, topology: unknown): MeshDefaults['gatewayTopology'] {
  if (topology === undefined || topology === null) return undefined;
  if (!isMap(topology)) return wrongShape(ctx, field, topology, 'a map with numTrustedProxies, proxyProtocol, forwardClientCertDetails');
  // istiod's JSON reader takes a quoted number for a uint32 ("2").
  const hopsValue = typeof topology.numTrustedProxies === 'string' && /^\d{1,10}$/.test(topology.numTrustedProxies) ? Number(topology.numTrustedProxies) : topology.numTrustedProxies;
  const numTrustedProxies = readInteger(ctx, `${field}.numTrustedProxies`, hopsValue, 0, UINT32_MAX);
  const pp = topology.proxyProtocol;
  const proxyProtocol = pp === undefined || pp === null ? undefined : isMap(pp) ? pp : wrongShape(ctx, `${field}.proxyProtocol`, pp, 'a map ({} turns PROXY protocol on)');
  const forwardClientCertDetails = readEnum(ctx, `${field}.forwardClientCertDetails`, topology.forwardClientCertDetails, FORWARD_CLIENT_CERT);
  return {
    ...(numTrustedProxies !== undefined ? { numTrustedProxies } : {}),
    ...(proxyProtocol !== undefined ? { proxyProtocol } : {}),
    ...(forwardClientCertDetails !== undefined ? { forwardClientCertDetails } : {}),
  };
}

/** Per revision, the source istiod reads (ConfigMap over IstioOperator over Helm values; the later of equals); a differing loser is a warning. */
function pickPerRevision(candidates: MeshDefaults[], findings: Finding[]): Map<string, MeshDefaults> {
  const byRevision = new Map<string, MeshDefaults>();
  for (const c of candidates) {
    const current = byRevision.get(c.revision);
    if (current === undefined || c.rank >= current.rank) byRevision.set(c.revision, c);
  }
  for (const c of candidates) {
    const winner = byRevision.get(c.revision)!;
    if (c === winner) continue;
    const differences = differencesOf(c, winner);
    if (differences.length === 0) continue;
    findings.push({
      severity: FindingSeverity.WARNING,
      where: c.source,
      message: `its meshConfig for revision "${c.revision}" differs from ${winner.source}: ${differences.join('; ')}; explain uses ${winner.source}${winner.rank === Rank.CONFIG_MAP ? ', the ConfigMap istiod reads' : c.rank === winner.rank ? ', given later' : ', which renders the ConfigMap'}`,
      fix: 'one of the two is stale: install again from the source you keep, or give explain only what the cluster runs (kubectl get configmap istio -n istio-system -o yaml)',
    });
  }
  return byRevision;
}

function differencesOf(a: MeshDefaults, b: MeshDefaults): string[] {
  const out: string[] = [];
  if (a.rootNamespace !== b.rootNamespace) out.push(`rootNamespace ${a.rootNamespace} vs ${b.rootNamespace}`);
  if (JSON.stringify(a.gatewayTopology ?? {}) !== JSON.stringify(b.gatewayTopology ?? {})) {
    out.push(`defaultConfig.gatewayTopology ${JSON.stringify(a.gatewayTopology ?? {})} vs ${JSON.stringify(b.gatewayTopology ?? {})}`);
  }
  if ((a.interceptionMode ?? 'REDIRECT') !== (b.interceptionMode ?? 'REDIRECT')) {
    out.push(`defaultConfig.interceptionMode ${a.interceptionMode ?? 'REDIRECT'} vs ${b.interceptionMode ?? 'REDIRECT'}`);
  }
  return out;
}

/** The fields of `topology` that `replacement` (a pod's gatewayTopology, which replaces the mesh's as a whole) drops. */
export function fieldsLostByReplacement(topology: MeshDefaults['gatewayTopology'], replacement: unknown): string[] {
  if (topology === undefined) return [];
  const kept = isMap(replacement) ? replacement : {};
  return Object.keys(topology).filter(k => kept[k] === undefined || kept[k] === null);
}

interface InstalledGateway {
  readonly name: string;
  readonly namespace: string;
  readonly kind: string;
  readonly labels: { [key: string]: string };
  readonly podAnnotations: { [key: string]: string };
  /** Absent: no Service (gateway chart `service.type: None`). */
  readonly service?: {
    readonly type: string;
    readonly externalTrafficPolicy?: unknown;
    readonly annotations: { [key: string]: string };
    readonly ports: unknown[];
    readonly selector: { [key: string]: string };
    readonly loadBalancerClass?: unknown;
  };
}

const INGRESS_DEFAULTS = { name: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } };
/** The istio-ingress chart sends 80 and 443 to unprivileged container ports. */
const INGRESS_PORTS = [
  { name: STATUS_PORT_NAME, port: STATUS_PORT, targetPort: STATUS_PORT, protocol: 'TCP' },
  { name: 'http2', port: 80, targetPort: gatewayListenerPort(80), protocol: 'TCP' },
  { name: 'https', port: 443, targetPort: gatewayListenerPort(443), protocol: 'TCP' },
];
const GATEWAY_CHART_PORTS = [
  { name: STATUS_PORT_NAME, port: STATUS_PORT, targetPort: STATUS_PORT, protocol: 'TCP' },
  { name: 'http2', port: 80, targetPort: 80, protocol: 'TCP' },
  { name: 'https', port: 443, targetPort: 443, protocol: 'TCP' },
];
/** The gateway chart's default pod annotations: the gateway injection template. */
const GATEWAY_CHART_POD_ANNOTATIONS = { [INJECT_TEMPLATES_ANNOTATION]: GATEWAY_INJECT_TEMPLATE, [SIDECAR_INJECT_LABEL]: 'true' };

/** Istio's profiles that disable the default profile's istio-ingressgateway (the others, e.g. demo, keep it). */
const PROFILES_WITHOUT_INGRESS: unknown[] = ['minimal', 'remote', 'ambient', 'empty', 'openshift-ambient'];

/** The ingress gateways an IstioOperator installs: those listed (and enabled), else the profile's istio-ingressgateway. */
function gatewaysOfIstioOperator(o: any, findings: Finding[]): any[] {
  const where = objectWhere(o);
  const ctx: ReadContext = { where, findings };
  const spec = isMap(o.spec) ? o.spec : {};
  const values = isMap(spec.values) ? spec.values : {};
  const gatewayValues = isMap(values.gateways) && isMap(values.gateways['istio-ingressgateway']) ? values.gateways['istio-ingressgateway'] : {};
  const listed = isMap(spec.components) ? spec.components.ingressGateways : undefined;
  if (listed !== undefined && listed !== null && !Array.isArray(listed)) {
    wrongShape(ctx, 'spec.components.ingressGateways', listed, 'a list of gateways');
    return [];
  }
  const profileHasIngress = !PROFILES_WITHOUT_INGRESS.includes(spec.profile) || gatewayValues.enabled === true;
  const components: any[] = listed ?? (profileHasIngress ? [{}] : []);
  const istioNamespace = isMap(values.global) && typeof values.global.istioNamespace === 'string' ? values.global.istioNamespace : undefined;
  const revision = typeof spec.revision === 'string' && spec.revision !== '' ? spec.revision : undefined;
  return components.flatMap((c: unknown, i: number) => {
    const field = `spec.components.ingressGateways[${i}]`;
    if (!isMap(c)) return wrongShape(ctx, field, c, 'a map with name, namespace, label and k8s') ?? [];
    if (c.enabled === false) return [];
    const k8s = isMap(c.k8s) ? c.k8s : {};
    const service = isMap(k8s.service) ? k8s.service : {};
    const labels = {
      ...INGRESS_DEFAULTS.labels,
      ...stringMap(ctx, 'spec.values.gateways.istio-ingressgateway.labels', gatewayValues.labels),
      ...stringMap(ctx, `${field}.label`, c.label),
    };
    const gateway: InstalledGateway = {
      name: typeof c.name === 'string' && c.name !== '' ? c.name : INGRESS_DEFAULTS.name,
      namespace: typeof c.namespace === 'string' && c.namespace !== '' ? c.namespace : istioNamespace || o.metadata?.namespace || DEFAULT_ROOT_NAMESPACE,
      kind: 'Deployment',
      labels: { ...labels, ...(revision ? { [REVISION_LABEL]: revision } : {}) },
      podAnnotations: {
        ...stringMap(ctx, 'spec.values.gateways.istio-ingressgateway.podAnnotations', gatewayValues.podAnnotations),
        ...stringMap(ctx, `${field}.k8s.podAnnotations`, k8s.podAnnotations),
      },
      service: {
        type: typeof service.type === 'string' ? service.type : typeof gatewayValues.type === 'string' ? gatewayValues.type : 'LoadBalancer',
        externalTrafficPolicy: nonEmpty(service.externalTrafficPolicy) ?? nonEmpty(gatewayValues.externalTrafficPolicy),
        annotations: {
          ...stringMap(ctx, 'spec.values.gateways.istio-ingressgateway.serviceAnnotations', gatewayValues.serviceAnnotations),
          ...stringMap(ctx, `${field}.k8s.serviceAnnotations`, k8s.serviceAnnotations),
        },
        ports: Array.isArray(service.ports) && service.ports.length > 0 ? service.ports
          : Array.isArray(gatewayValues.ports) ? gatewayValues.ports : INGRESS_PORTS,
        selector: labels,
        ...(service.loadBalancerClass !== undefined ? { loadBalancerClass: service.loadBalancerClass } : {}),
      },
    };
    return renderGateway(gateway, `rendered from ${where} ${field}`);
  });
}

/** The Deployment (or DaemonSet) and Service the gateway chart renders from these values. */
function gatewayOfHelmValues(h: HelmValues, findings: Finding[]): any[] {
  const where = h.source ?? 'gateway Helm values';
  const ctx: ReadContext = { where, findings };
  const values = chartValues(h.values);
  const name = readString(ctx, 'name', values.name) || h.releaseName || INGRESS_DEFAULTS.name;
  const labels = stringMap(ctx, 'labels', values.labels);
  const selector = { app: labels.app ?? name, istio: labels.istio ?? name.replace(/^istio-/, '') };
  const revision = readString(ctx, 'revision', values.revision);
  const service = isMap(values.service) ? values.service : values.service === undefined || values.service === null ? {} : wrongShape(ctx, 'service', values.service, 'a map') ?? {};
  const type = readString(ctx, 'service.type', service.type) || 'LoadBalancer';
  const kind = readEnum(ctx, 'kind', values.kind, ['Deployment', 'DaemonSet']) ?? 'Deployment';
  const gateway: InstalledGateway = {
    name,
    namespace: h.namespace ?? 'istio-ingress',
    kind,
    labels: { ...labels, ...selector, [SIDECAR_INJECT_LABEL]: 'true', ...(revision ? { [REVISION_LABEL]: revision } : {}) },
    podAnnotations: dropNulls({ ...GATEWAY_CHART_POD_ANNOTATIONS, ...stringMap(ctx, 'podAnnotations', values.podAnnotations, true) }),
    ...(type === 'None' ? {} : {
      service: {
        type,
        externalTrafficPolicy: nonEmpty(service.externalTrafficPolicy),
        annotations: { ...stringMap(ctx, 'annotations', values.annotations), ...stringMap(ctx, 'service.annotations', service.annotations) },
        ports: Array.isArray(service.ports) && service.ports.length > 0 ? service.ports : GATEWAY_CHART_PORTS,
        selector: { ...selector, ...stringMap(ctx, 'service.selectorLabels', service.selectorLabels) },
        ...(service.loadBalancerClass !== undefined ? { loadBalancerClass: service.loadBalancerClass } : {}),
      },
    }),
  };
  const release = `${h.releaseName ? `release ${h.releaseName}` : 'release name not given'}, namespace ${h.namespace ?? 'not given: istio-ingress assumed'}`;
  return renderGateway(gateway, `rendered from ${where} (${release})`);
}

const INSTALLED = new WeakSet<object>();

/** True for a Deployment or DaemonSet explain made from an IstioOperator or gateway Helm values: a gateway whatever its labels. */
export function isInstalledGateway(o: unknown): boolean {
  return o !== null && typeof o === 'object' && INSTALLED.has(o);
}

function renderGateway(g: InstalledGateway, source: string): any[] {
  const workload = {
    apiVersion: 'apps/v1',
    kind: g.kind,
    metadata: { name: g.name, namespace: g.namespace },
    spec: {
      selector: { matchLabels: g.service?.selector ?? g.labels },
      template: { metadata: { labels: g.labels, annotations: g.podAnnotations }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } },
    },
  };
  rememberOrigin(workload, { source, document: 0 });
  INSTALLED.add(workload);
  if (g.service === undefined) return [workload];
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: g.name, namespace: g.namespace, annotations: g.service.annotations },
    spec: {
      type: g.service.type,
      selector: g.service.selector,
      ports: g.service.ports,
      ...(g.service.externalTrafficPolicy !== undefined ? { externalTrafficPolicy: g.service.externalTrafficPolicy } : {}),
      ...(g.service.loadBalancerClass !== undefined ? { loadBalancerClass: g.service.loadBalancerClass } : {}),
    },
  };
  rememberOrigin(service, { source, document: 0 });
  return [workload, service];
}

/** Values as a chart sees them: `_internal_defaults_do_not_set` (the chart's defaults wrapper) under the top level. */
function chartValues(values: { [key: string]: any }): { [key: string]: any } {
  const wrapped = values._internal_defaults_do_not_set;
  return isMap(wrapped) ? mergeValues(wrapped, values) : values;
}

/** Helm's merge of values: maps merge key by key, anything else is replaced; null keeps the key as null (then dropped). */
export function mergeValues(base: { [key: string]: any }, over: { [key: string]: any }): { [key: string]: any } {
  const out: { [key: string]: any } = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // Own keys only: a "__proto__" key from JSON must not become the prototype of the merged values.
    const below = Object.prototype.hasOwnProperty.call(base, k) ? base[k] : undefined;
    const value = isMap(v) && isMap(below) ? mergeValues(below, v) : v;
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function dropNulls(map: { [key: string]: string | null }): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(map)) if (v !== null) out[k] = v;
  return out;
}

/** A map of strings from values; a value of another type is an ERROR finding and left out (null is kept when asked: Helm deletes the key). */
function stringMap(ctx: ReadContext, field: string, value: unknown, keepNull = false): { [key: string]: any } {
  if (value === undefined || value === null) return {};
  if (!isMap(value)) return wrongShape(ctx, field, value, 'a map of names to strings') ?? {};
  const out: { [key: string]: any } = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (v === null && keepNull) out[k] = null;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else wrongShape(ctx, `${field}.${k}`, v, 'a string');
  }
  return out;
}

function nonEmpty(value: unknown): unknown {
  return value === undefined || value === null || value === '' ? undefined : value;
}

function isMap(v: unknown): v is { [key: string]: any } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
