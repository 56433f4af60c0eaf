import { PROXY_CONFIG_ANNOTATION } from '../../envoy/names';
import { finding } from '../../model/finding-text';
import { AgentEnv, proxyContainerEnv } from '../agent-env';
import { Finding, FindingSeverity } from '../explain-report';
import { parseEmbeddedYaml } from '../input';
import { MeshDefaults, isInstalledGateway } from '../mesh-config';
import { shortValue } from '../read-values';

/* What every reader of explain's manifests shares: pod templates, names, lists. */

export interface PodTemplateOwner {
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

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job'];

export function labelsOf(o: any): { [key: string]: string } {
  const labels = o?.metadata?.labels;
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? labels : {};
}

export function servicesByName(services: any[]): Map<string, any> {
  const byName = new Map<string, any>();
  for (const svc of services) {
    const key = `${namespaceOf(svc)}/${svc.metadata?.name}`;
    if (!byName.has(key)) byName.set(key, svc);
  }
  return byName;
}

export function namespaceOf(o: any): string {
  return o.metadata?.namespace ?? 'default';
}

export function podTemplateOf(o: any): PodTemplateOwner {
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

export function proxyConfigOf(p: PodTemplateOwner, findings?: Finding[]): any {
  const text = p.annotations[PROXY_CONFIG_ANNOTATION];
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

/** A field that should be a list, as a list: anything else (a string, an object, null) reads as empty. */
export function listOf(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}
