import { LoadBalancerProfile } from './load-balancer-profile';
import { LB_PRESERVES_SOURCE_ANNOTATION } from '../model/annotations';
import { LIST_ANNOTATIONS, recogniseLoadBalancer } from '../model/load-balancers';

/*
 * The annotations of a gateway's Service (and, in attach mode, of its Istio Gateway) as the load-balancer profile
 * and the user's `serviceAnnotations` make them (internal).
 */

/**
 * `annotations` plus, when the load-balancer table cannot tell from `rendered` (the Service's annotations) whether
 * the load balancer keeps the client as the packet source, the library's annotation saying what the profile knows.
 */
export function withSourceFact(profile: LoadBalancerProfile, annotations: { [key: string]: string },
  rendered: { [key: string]: string }): { [key: string]: string } {
  const recognised = recogniseLoadBalancer(Object.assign({}, rendered, annotations), profile.loadBalancerClass);
  if (recognised.preservesSourceWithoutLocal === profile.preservesSourceWithoutLocal) return annotations;
  return Object.assign({}, annotations, { [LB_PRESERVES_SOURCE_ANNOTATION]: String(profile.preservesSourceWithoutLocal) });
}

/** Profile annotations overlaid by extra ones; comma-separated list annotations are merged, not replaced. */
export function mergeAnnotations(base: { [key: string]: string }, extra: { [key: string]: string }): { [key: string]: string } {
  const merged = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    merged[key] = LIST_ANNOTATIONS.includes(key) && merged[key]
      ? [...new Set([...merged[key].split(','), ...value.split(',')].map(v => v.trim()).filter(v => v))].join(',')
      : value;
  }
  return merged;
}
