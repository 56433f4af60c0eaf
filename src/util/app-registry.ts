import { IConstruct } from 'constructs';
import { duplicateObjectErrors } from './duplicate-objects';

/*
 * The library's own constructs, per app (construct root), registered when they are created. App-wide checks
 * read these lists, or indexes derived from them, instead of walking the whole construct tree from every
 * construct, so that synthesis stays linear in the size of the app (see bench/RESULTS.md).
 */

/** Registry kind of the ingress gateways (IngressGatewayBase). */
export const GATEWAY_KIND = 'gateway';
/** Registry kind of XffSidecarFilter. */
export const XFF_FILTER_KIND = 'xff-sidecar-filter';
/** Registry kind of TproxyWorkload. */
export const TPROXY_WORKLOAD_KIND = 'tproxy-workload';
/** Registry kind of SourceIpPolicy. */
export const POLICY_KIND = 'source-ip-policy';

interface Entry {
  readonly items: IConstruct[];
  readonly derived: Map<string, { readonly version: number; readonly value: unknown }>;
}

const REGISTRY = new WeakMap<IConstruct, Map<string, Entry>>();
const LIBRARY_CONSTRUCTS = new WeakSet<IConstruct>();
const APP_VALIDATIONS = new WeakMap<IConstruct, Set<string>>();

function entryFor(scope: IConstruct, kind: string): Entry {
  const root = scope.node.root;
  let kinds = REGISTRY.get(root);
  if (!kinds) {
    kinds = new Map();
    REGISTRY.set(root, kinds);
  }
  let entry = kinds.get(kind);
  if (!entry) {
    entry = { items: [], derived: new Map() };
    kinds.set(kind, entry);
  }
  return entry;
}

/** Records `construct` as one of the app's constructs of `kind`. */
export function registerInApp(construct: IConstruct, kind: string): void {
  entryFor(construct, kind).items.push(construct);
  LIBRARY_CONSTRUCTS.add(construct);
  // Any app that uses the library gets the one check that no two objects would replace each other when applied.
  addAppValidationOnce(construct, 'duplicate-objects', () => duplicateObjectErrors(construct.node.root));
}

/** True for a construct of this library that registered itself (its subtree holds only what it rendered). */
export function isLibraryConstruct(construct: IConstruct): boolean {
  return LIBRARY_CONSTRUCTS.has(construct);
}

/** The app's constructs of `kind`, in creation order. */
export function registeredInApp<T extends IConstruct>(scope: IConstruct, kind: string): T[] {
  return entryFor(scope, kind).items as T[];
}

/**
 * A value computed from the app's constructs of `kind` (an index, say), cached until another construct of that
 * kind is registered.
 */
export function derivedFromApp<T extends IConstruct, V>(scope: IConstruct, kind: string, key: string, compute: (items: T[]) => V): V {
  const entry = entryFor(scope, kind);
  const cached = entry.derived.get(key);
  if (cached && cached.version === entry.items.length) return cached.value as V;
  const value = compute(entry.items as T[]);
  entry.derived.set(key, { version: entry.items.length, value });
  return value;
}

/** Adds `validate` to the app's root once per `key`: for checks that must look at the whole tree, once. */
export function addAppValidationOnce(scope: IConstruct, key: string, validate: () => string[]): void {
  const root = scope.node.root;
  let keys = APP_VALIDATIONS.get(root);
  if (!keys) {
    keys = new Set();
    APP_VALIDATIONS.set(root, keys);
  }
  if (keys.has(key)) return;
  keys.add(key);
  root.node.addValidation({ validate });
}
