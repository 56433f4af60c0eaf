import { Finding, FindingSeverity } from './explain-report';
import { objectWhere } from './skipped';
import { EnvSetting } from '../model/trace-model';
import { SelectorIndex } from '../trace/selector-index';

export { isTrueEnv } from '../model/trace-model';
export type { EnvSetting } from '../model/trace-model';

/*
 * The environment of a gateway's istio-proxy container, where pilot-agent reads settings such as
 * ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL when it starts (internal). istiod merges ProxyConfig from the lowest to the
 * highest precedence: meshConfig `defaultConfig`, the root namespace's ProxyConfig without a selector (mesh-wide),
 * the pod namespace's one without a selector, then the pod's `proxy.istio.io/config` annotation under the oldest
 * ProxyConfig whose `selector.matchLabels` picks the pod. `proxyMetadata` (a ProxyConfig's `environmentVariables`)
 * is merged key by key and becomes container env when the pod is injected or the Gateway API deployment is
 * rendered: a changed ProxyConfig reaches pods only when they are recreated. Env set on the container itself (the pod
 * template, or a parametersRef `deployment` overlay) wins over it. For a Gateway API gateway istiod matches
 * ProxyConfigs against the label `gateway.networking.k8s.io/gateway-name` only, and reads no pod annotations.
 */

/** The agent environment per variable name. */
export type AgentEnv = Map<string, EnvSetting>;

interface ReadProxyConfig {
  readonly where: string;
  readonly env: { [key: string]: string };
}

/** ProxyConfig resources by namespace, oldest first as istiod orders them (creation time, then name). */
export class ProxyConfigIndex {
  /** Reads the ProxyConfig objects (already checked for shape by the skipped-object rules). */
  public static of(objects: any[], findings: Finding[]): ProxyConfigIndex {
    const index = new ProxyConfigIndex();
    const sorted = [...objects].sort(byCreationThenName);
    for (const o of sorted) {
      const namespace = o.metadata?.namespace ?? 'default';
      const read: ReadProxyConfig = { where: objectWhere(o), env: stringValues(o.spec?.environmentVariables) };
      const matchLabels = o.spec?.selector?.matchLabels ?? {};
      if (Object.keys(matchLabels).length > 0) {
        index.selecting.add(namespace, matchLabels, read);
        continue;
      }
      const first = index.namespaceWide.get(namespace);
      if (first) {
        findings.push({
          severity: FindingSeverity.WARNING,
          where: read.where,
          message: `a second ProxyConfig without selector in namespace ${namespace}: istiod applies only the oldest one (${first.where}) and ignores this one`,
          fix: 'merge their environmentVariables into one ProxyConfig, or give this one a selector',
        });
        continue;
      }
      index.namespaceWide.set(namespace, read);
    }
    return index;
  }

  private readonly namespaceWide = new Map<string, ReadProxyConfig>();
  private readonly selecting = new SelectorIndex<ReadProxyConfig>();

  private constructor() {}

  /**
   * The merged environment ProxyConfigs give to pods with `labels` in `namespace`: mesh defaults, then the root
   * namespace's, the namespace's, the pod annotation's (when the pods are injected) and the selecting ProxyConfig.
   */
  public envFor(namespace: string, labels: { [key: string]: string }, rootNamespace: string, lower: AgentEnv, annotationEnv: AgentEnv): AgentEnv {
    const env: AgentEnv = new Map(lower);
    const layer = (read: ReadProxyConfig | undefined) => {
      if (!read) return;
      for (const [k, v] of Object.entries(read.env)) env.set(k, { value: v, source: `${read.where} environmentVariables` });
    };
    layer(this.namespaceWide.get(rootNamespace));
    if (namespace !== rootNamespace) layer(this.namespaceWide.get(namespace));
    for (const [k, v] of annotationEnv) env.set(k, v);
    layer(this.selecting.matching([namespace], labels)[0]);
    return env;
  }
}

/** Env entries of the `istio-proxy` container of a pod spec: `value` strings, and `valueFrom` as unknown values. */
export function proxyContainerEnv(podSpec: any, source: string): AgentEnv {
  const env: AgentEnv = new Map();
  const containers = Array.isArray(podSpec?.containers) ? podSpec.containers : [];
  const proxy = containers.find((c: any) => c?.name === 'istio-proxy');
  for (const e of Array.isArray(proxy?.env) ? proxy.env : []) {
    if (typeof e?.name !== 'string') continue;
    env.set(e.name, typeof e.value === 'string' ? { value: e.value, source } : { source: `${source} (valueFrom)` });
  }
  return env;
}

/** A map of strings as an environment from one source. */
export function envOf(values: unknown, source: string): AgentEnv {
  return new Map(Object.entries(stringValues(values)).map(([k, v]) => [k, { value: v, source }]));
}

function stringValues(values: unknown): { [key: string]: string } {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return {};
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string') out[k] = v;
  return out;
}

function byCreationThenName(a: any, b: any): number {
  // A missing timestamp sorts first, as Go's zero time does; YAML may have read the timestamp as a date.
  const time = (o: any) => {
    const t = o.metadata?.creationTimestamp;
    return t instanceof Date ? t.getTime() || 0 : typeof t === 'string' ? Date.parse(t) || 0 : 0;
  };
  return time(a) - time(b) || compare(String(a.metadata?.name ?? ''), String(b.metadata?.name ?? ''))
    || compare(String(a.metadata?.namespace ?? ''), String(b.metadata?.namespace ?? ''));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
