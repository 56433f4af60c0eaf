import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/*
 * Two objects with the same API group, kind, namespace and name are one object to the API server: the one applied
 * later silently replaces the other. One app-wide check (added once per app) refuses them at synthesis, whichever
 * charts or constructs emit them.
 */

/**
 * Context key: set it to true on an app whose charts are alternatives, each applied on its own (one cluster or
 * scenario per chart); objects are then checked for duplicates within each chart only.
 */
export const CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY = 'cdk8s-istio-source-ip:chartsAreAlternatives';

/** The messages for every object that another object of the app would replace when applied. */
export function duplicateObjectErrors(root: IConstruct): string[] {
  const perChart = root.node.tryGetContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY) === true;
  const first = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const c of root.node.findAll()) {
    if (!ApiObject.isApiObject(c)) continue;
    const group = c.apiVersion.includes('/') ? c.apiVersion.split('/')[0] : '';
    const namespace = c.metadata.namespace ?? '';
    const key = JSON.stringify([perChart ? Chart.of(c).node.path : '', group, c.kind, namespace, c.name]);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, c);
      continue;
    }
    const what = `${group === '' ? '' : `${group} `}${c.kind} "${namespace === '' ? '' : `${namespace}/`}${c.name}"`;
    errors.push(`object ${what} is emitted twice, by ${earlier.node.path} and ${c.node.path}: the one applied later silently replaces the other; `
      + 'give one of them another name or namespace (or remove one)');
  }
  return errors;
}
