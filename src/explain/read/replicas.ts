import { labelsOf, namespaceOf } from './objects';
import { selectorMatches } from '../../model/selectors';

/*
 * Replicas are not workloads. A cluster dump holds a Deployment, its ReplicaSets and every pod they run; explain
 * traces the Deployment once. What belongs to a workload in the input, as the controllers record it:
 * - a ReplicaSet whose controller (ownerReferences, controller: true) is a Deployment in the input;
 * - a pod whose controller (a ReplicaSet, StatefulSet, DaemonSet or Job) is in the input, or whose labels carry
 *   `pod-template-hash` and match the selector of a Deployment of its namespace (its ReplicaSet left out of the dump).
 * Bare pods (no controller in the input) with identical labels and annotations are one workload: the first of them
 * (by name) stands for the group.
 * See Kubernetes' pkg/controller/deployment/sync.go (pod-template-hash) and the ownerReferences the controllers set.
 */

/** The label the Deployment controller adds to the pods (and ReplicaSets) of one revision. */
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

function controllerOf(o: any): { kind: string; name: string } | undefined {
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
    const owner = controllerOf(o);
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
    if (o.kind !== 'Pod') {
      out.push(o);
      continue;
    }
    const group = JSON.stringify([namespaceOf(o), sorted(labelsOf(o)), sorted(o.metadata?.annotations)]);
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
