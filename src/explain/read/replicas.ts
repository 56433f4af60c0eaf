import { labelsOf, namespaceOf } from './objects';
import { selectorMatches } from '../../model/selectors';
import { originOf, rememberOrigin } from '../input';

/*
 * Replicas are not workloads. A cluster dump holds a Deployment, its ReplicaSets and every pod they run; explain
 * traces the Deployment once. What belongs to a workload in the input, as the controllers record it:
 * - a ReplicaSet whose controller (ownerReferences, controller: true) is a Deployment in the input;
 * - a pod whose controller (a ReplicaSet, StatefulSet, DaemonSet or Job) is in the input, or whose labels carry
 *   `pod-template-hash` and match the selector of a Deployment of its namespace (its ReplicaSet left out of the dump).
 * Bare pods (no controller in the input) with identical labels and annotations are one workload: the first of them
 * (by name) stands for the group; so are ReplicaSets without their Deployment whose labels, annotations and template
 * labels and annotations are identical.
 * See Kubernetes' pkg/controller/deployment/sync.go (pod-template-hash) and the ownerReferences the controllers set.
 */

/** The label the Deployment controller adds to the pods (and ReplicaSets) of one revision. */
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

function controllerRef(o: any): { kind: string; name: string } | undefined {
  const refs = o?.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r: any) => r?.controller === true) ?? refs[0];
  return ref !== null && typeof ref === 'object' && typeof ref.kind === 'string' && typeof ref.name === 'string' ? { kind: ref.kind, name: ref.name } : undefined;
}

function key(kind: string, namespace: string, name: unknown): string {
  return JSON.stringify([kind, namespace, name]);
}

/** The workload objects (Deployments, ReplicaSets, Pods, ...) that explain traces: replicas left out, bare pods grouped. */
export function withoutReplicas(workloads: any[]): any[] {
  const present = new Set(workloads.map(o => key(o.kind, namespaceOf(o), o.metadata?.name)));
  const deploymentSelectors = new Map<string, Array<{ [key: string]: string }>>();
  for (const o of workloads) {
    const selector = o.kind === 'Deployment' ? o.spec?.selector?.matchLabels : undefined;
    if (selector === null || typeof selector !== 'object' || Object.keys(selector).length === 0) continue;
    const list = deploymentSelectors.get(namespaceOf(o)) ?? [];
    list.push(selector);
    deploymentSelectors.set(namespaceOf(o), list);
  }
  const owned = (o: any): boolean => {
    const owner = controllerRef(o);
    if (owner !== undefined && present.has(key(owner.kind, namespaceOf(o), owner.name))) {
      return o.kind === 'ReplicaSet' ? owner.kind === 'Deployment' : o.kind === 'Pod';
    }
    if (o.kind !== 'Pod') return false;
    const labels = labelsOf(o);
    return labels[POD_TEMPLATE_HASH_LABEL] !== undefined
      && (deploymentSelectors.get(namespaceOf(o)) ?? []).some(s => selectorMatches(s, labels));
  };
  // Per group, where its pod stands in `out`.
  const groups = new Map<string, number>();
  const out: any[] = [];
  for (const o of workloads) {
    if (owned(o)) continue;
    if (o.kind !== 'Pod' && o.kind !== 'ReplicaSet') {
      out.push(o);
      continue;
    }
    const template = o.kind === 'ReplicaSet' ? o.spec?.template?.metadata : undefined;
    const group = JSON.stringify([o.kind, namespaceOf(o), sorted(labelsOf(o)), sorted(o.metadata?.annotations),
      sorted(template?.labels), sorted(template?.annotations)]);
    const at = groups.get(group);
    if (at === undefined) {
      groups.set(group, out.length);
      out.push(o);
    } else if (String(o.metadata?.name) < String(out[at].metadata?.name)) {
      out[at] = o;
    }
  }
  return out;
}

function sorted(map: unknown): Array<[string, unknown]> {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return [];
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A copy of `s` that does not share the memory of the text it was read from. */
function fresh(s: string): string {
  return JSON.parse(JSON.stringify(s));
}

function isMap(v: unknown): v is { [key: string]: any } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isStringMap(v: unknown): boolean {
  return v === undefined || (isMap(v) && Object.values(v).every(x => typeof x === 'string'));
}

/** A replica reduced by compactReplica, and the group of replicas it stands for. */
export interface CompactReplica {
  readonly object: any;
  /** Replicas of one kind, namespace, controller and template: the report is the same with any one of them. */
  readonly group?: string;
}

/**
 * A replica as the stream keeps it until it knows whether its controller is in the input: a pod with a controller,
 * or a ReplicaSet of a Deployment, reduced to what explain reads of a workload (name, namespace, labels,
 * annotations, the controller reference, the istio-proxy container's env; for a ReplicaSet its selector and its
 * template's labels and annotations), the labels and annotations that replicas of one template share held once
 * (`shared`). Replicas of one group (kind, namespace, controller, labels and annotations) give the same report
 * (withoutReplicas drops them all, or traces the first by name), so the stream keeps one per group. Objects of another shape are returned as they are (their findings and skip reasons need them).
 */
export function compactReplica(o: any, shared: Map<string, { id: number; parts: any[] }>): CompactReplica {
  if (!isMap(o) || !isMap(o.metadata) || !isMap(o.spec)) return { object: o };
  const owner = controllerRef(o);
  const pod = o.kind === 'Pod' && o.apiVersion === 'v1';
  const replicaSet = o.kind === 'ReplicaSet' && o.apiVersion === 'apps/v1' && owner?.kind === 'Deployment';
  if (owner === undefined || !(pod || replicaSet)) return { object: o };
  const meta = o.metadata;
  if (typeof meta.name !== 'string' || (meta.namespace !== undefined && typeof meta.namespace !== 'string') || !isStringMap(meta.labels) || !isStringMap(meta.annotations)) return { object: o };
  const template = o.spec.template;
  const templateMeta = isMap(template) ? template.metadata : undefined;
  if (replicaSet && (!isMap(templateMeta) || !isStringMap(templateMeta.labels) || !isStringMap(templateMeta.annotations))) return { object: o };
  const podSpec = pod ? o.spec : template.spec;
  if (podSpec !== undefined && !isMap(podSpec)) return { object: o };
  const proxy = Array.isArray(podSpec?.containers) ? podSpec.containers.find((c: any) => c?.name === 'istio-proxy') : undefined;
  // The env is the replica's own (it may name the pod): a fresh copy, kept only for the group's replica.
  const sharedSpec = JSON.parse(JSON.stringify({ containers: isMap(proxy) ? [{ name: 'istio-proxy', ...(proxy.env !== undefined ? { env: proxy.env } : {}) }] : [] }));
  const parts = pod ? [meta.labels, meta.annotations]
    : [meta.labels, meta.annotations, o.spec.selector, templateMeta.labels, templateMeta.annotations];
  const sharedKey = JSON.stringify([o.kind, ...parts]);
  let common = shared.get(sharedKey);
  if (common === undefined) {
    // Fresh copies: the parser's strings are slices of the document's text and would keep all of it alive.
    common = { id: shared.size, parts: JSON.parse(sharedKey).slice(1) };
    shared.set(sharedKey, common);
  }
  const [labels, annotations, selector, templateLabels, templateAnnotations] = common.parts;
  const stub = {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: fresh(meta.name),
      ...(meta.namespace !== undefined ? { namespace: fresh(meta.namespace) } : {}),
      ...(labels !== undefined ? { labels } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
      ownerReferences: [{ kind: fresh(owner.kind), name: fresh(owner.name), controller: true }],
    },
    spec: pod ? sharedSpec : {
      ...(selector !== undefined ? { selector } : {}),
      template: {
        metadata: {
          ...(templateLabels !== undefined ? { labels: templateLabels } : {}),
          ...(templateAnnotations !== undefined ? { annotations: templateAnnotations } : {}),
        },
        spec: sharedSpec,
      },
    },
  };
  const origin = originOf(o);
  if (origin) rememberOrigin(stub, origin);
  return { object: stub, group: JSON.stringify([common.id, namespaceOf(o), owner.kind, owner.name]) };
}
