import { ReadEnvoyFilter } from './envoy-filters';
import { DEFAULT_ROOT_NAMESPACE } from '../../envoy/names';
import { ROOT_NAMESPACE_ANNOTATION } from '../../model/annotations';
import { SelectorIndex } from '../../trace/selector-index';
import { ProxyConfigIndex } from '../agent-env';
import { MeshSettings } from '../mesh-config';

/* The objects explain looks up per pod, and the namespaces whose objects reach every pod. */

/** The objects explain looks up per pod, indexed by label so that parsing stays linear in the number of objects. */
export interface Indexes {
  readonly istioGateways: SelectorIndex<any>;
  readonly services: SelectorIndex<any>;
  /** Services by `namespace/name` (the first of duplicates). */
  readonly serviceByName: Map<string, any>;
  readonly envoyFilters: SelectorIndex<ReadEnvoyFilter>;
  /** Namespaces whose EnvoyFilters and policies reach pods in every namespace. */
  readonly rootNamespaces: string[];
  /** meshConfig per Istio revision, and the gateways IstioOperators and Helm releases install. */
  readonly mesh: MeshSettings;
  /** ProxyConfig resources, which set the proxies' environment. */
  readonly proxyConfigs: ProxyConfigIndex;
}


/** The meshConfig's root namespaces (else Istio's default) plus any that this library's EnvoyFilters name in their annotation. */
export function rootNamespacesOf(envoyFilters: any[], meshRoots: string[]): string[] {
  const named = envoyFilters
    .map(f => f.metadata?.annotations?.[ROOT_NAMESPACE_ANNOTATION])
    .filter((ns: unknown): ns is string => typeof ns === 'string' && ns !== '');
  return [...new Set([...(meshRoots.length > 0 ? meshRoots : [DEFAULT_ROOT_NAMESPACE]), ...named])];
}
