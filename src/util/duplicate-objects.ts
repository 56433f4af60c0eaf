import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { appRootOf } from './app-root';
import { tupleKey } from './keys';
import { LibraryManifest } from './library-manifest';
import { SourceIpWarnings } from './warnings';

/*
 * Two objects with the same API group, kind, namespace and name are one object to the API server: the one applied
 * later silently replaces the other. One app-wide check (added once per app) reports them at synthesis:
 *
 * - two objects of one chart: an error (one file, applied at once);
 * - an object the library emits and another of another chart: an error, unless the charts are declared alternatives
 *   (the library's objects of one app are meant to be applied together);
 * - two objects the user created in different charts: a warning only. One chart per cluster or environment, each with
 *   the user's own `httpbin` Service, is a common cdk8s layout, and nothing shows that both files reach one cluster.
 *
 * Every message names the context key that declares the charts alternatives.
 */

/**
 * Context key: set it to true on an app whose charts are alternatives, each applied on its own (one cluster or
 * scenario per chart); objects are then checked for duplicates within each chart only.
 */
export const CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY = 'cdk8s-istio-source-ip:chartsAreAlternatives';

/**
 * The cluster a construct is applied to: its chart's path when the app's charts are alternatives (each applied on
 * its own), else "" (the app is one cluster).
 */
export function clusterKeyOf(c: IConstruct): string {
  if (!chartsAreAlternatives(appRootOf(c))) return '';
  return c.node.scopes.find(s => Chart.isChart(s))?.node.path ?? '';
}

/** True when the app's charts are declared alternatives (`CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY`): then each is a cluster. */
export function chartsAreAlternatives(root: IConstruct): boolean {
  // An app's context is fixed once it has children (constructs refuses setContext then), so the answer is kept.
  const known = ALTERNATIVES.get(root);
  if (known !== undefined) return known;
  const answer = root.node.tryGetContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY) === true;
  if (root.node.children.length > 0) ALTERNATIVES.set(root, answer);
  return answer;
}

const ALTERNATIVES = new WeakMap<IConstruct, boolean>();

const HOW_TO_DECLARE = `set the context key CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY ("${CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY}") to true on the app`;

/**
 * The errors for every object that another object of the app would replace when applied; the duplicates of user
 * objects in different charts become `SourceIpWarnings` on the later object instead.
 *
 * @param root the app's root construct, whose objects are checked
 * @param isLibraryConstruct true for the library's constructs (the topology's members): what is created under them
 * is the library's output
 * @param objects the ApiObjects under `root`, in construct order (`Topology.apiObjects()`)
 */
export function duplicateObjectErrors(root: IConstruct, isLibraryConstruct: (c: IConstruct) => boolean,
  objects: readonly ApiObject[]): string[] {
  const perChart = chartsAreAlternatives(root);
  const first = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const c of objects) {
    const group = c.apiVersion.includes('/') ? c.apiVersion.split('/')[0] : '';
    const namespace = c.metadata.namespace ?? '';
    const key = tupleKey(perChart ? Chart.of(c).node.path : '', group, c.kind, namespace, c.name);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, c);
      continue;
    }
    const what = `${group === '' ? '' : `${group} `}${c.kind} "${namespace === '' ? '' : `${namespace}/`}${c.name}"`;
    const earlierChart = Chart.of(earlier);
    const chart = Chart.of(c);
    if (earlierChart === chart) {
      errors.push(`object ${what} is emitted twice in chart "${chart.node.path}", by ${earlier.node.path} and ${c.node.path}: the one applied later silently replaces the other; `
        + 'give one of them another name or namespace (or remove one); CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY does not apply, both are in one chart');
    } else if (isLibraryObject(earlier, isLibraryConstruct) || isLibraryObject(c, isLibraryConstruct)) {
      errors.push(`object ${what} is emitted twice, by ${earlier.node.path} (chart "${earlierChart.node.path}") and ${c.node.path} (chart "${chart.node.path}"), and the library writes at least one of them: the one applied later silently replaces the other; `
        + `give one of them another name or namespace (or remove one), or, if each chart is applied to its own cluster or environment, ${HOW_TO_DECLARE}`);
    } else {
      SourceIpWarnings.add(c, `object ${what} is emitted by ${earlier.node.path} (chart "${earlierChart.node.path}") and ${c.node.path} (chart "${chart.node.path}"): if both charts are applied to one cluster, the one applied later replaces the other; `
        + `if each chart is applied to its own cluster or environment, ${HOW_TO_DECLARE}, else give one of them another name or namespace`);
    }
  }
  return errors;
}

/** True for an object the library renders itself, or one created under one of its constructs. */
function isLibraryObject(object: ApiObject, isLibraryConstruct: (c: IConstruct) => boolean): boolean {
  // Not `instanceof`: cdk8s's ApiObject answers it for every ApiObject (Symbol.hasInstance), subclasses included.
  return object.constructor === LibraryManifest || object.node.scopes.some(isLibraryConstruct);
}
