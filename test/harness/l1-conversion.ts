import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import * as gatewayApi from '../../imports/gateway.networking.k8s.io';
import * as networking from '../../imports/networking.istio.io';
import * as security from '../../imports/security.istio.io';
import * as telemetry from '../../imports/telemetry.istio.io';
import { LibraryManifest } from '../../src/util/library-manifest';

/*
 * The library creates the objects it renders as plain ApiObjects of their kind (LibraryManifest) instead of as
 * instances of the generated L1 classes, whose toJson() would run a conversion over each manifest. That is only
 * right while the conversion would change nothing: every field under its API name, no IntOrString or Quantity
 * value. This runs the L1's conversion over such manifests and requires the same JSON, key order included.
 */

type Conversion = (props: any) => Record<string, any> | undefined;

/** `apiVersion|kind` -> the generated `toJson_<L1>Props` of the L1 class of that kind, from every module the library renders from. */
const CONVERSIONS: Map<string, Conversion> = (() => {
  const map = new Map<string, Conversion>();
  for (const module of [kplus.k8s, networking, security, telemetry, gatewayApi] as Array<{ [name: string]: any }>) {
    for (const [name, value] of Object.entries(module)) {
      const gvk = typeof value === 'function' ? value.GVK : undefined;
      const conversion = module[`toJson_${name}Props`];
      if (gvk && typeof conversion === 'function') map.set(`${gvk.apiVersion}|${gvk.kind}`, conversion);
    }
  }
  return map;
})();

/** True for an object the library created with `LibraryManifest.render` (`instanceof` is true for every ApiObject: cdk8s defines it by a marker). */
export function isLibraryManifest(construct: IConstruct): construct is LibraryManifest {
  return construct.constructor === LibraryManifest;
}

/**
 * `json` with every number and string boxed and given a `value` that is itself. The library writes IntOrString and
 * Quantity values as plain numbers and strings (`ApiShaped`), where the L1 props hold objects whose `value` the
 * conversion reads: boxed, a leaf answers `.value` for those fields, and every other field copies the box, which JSON
 * writes as the plain value again. An IntOrString object written into the manifest still shows up as a change.
 */
function boxLeaves(json: unknown): unknown {
  if (typeof json === 'number') return Object.assign(new Number(json), { value: json });
  if (typeof json === 'string') return Object.assign(new String(json), { value: json });
  if (Array.isArray(json)) return json.map(boxLeaves);
  if (json !== null && typeof json === 'object') return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, boxLeaves(v)]));
  return json;
}

/** The differences the L1 conversion would make to the manifests of the LibraryManifests under `scope`, one line each. */
export function l1ConversionChanges(scope: IConstruct): string[] {
  return scope.node.findAll().filter(isLibraryManifest).flatMap(object => {
    const { apiVersion, kind, ...rest } = (object as ApiObject).toJson();
    const conversion = CONVERSIONS.get(`${apiVersion}|${kind}`);
    if (!conversion) return [`${object.node.path}: no generated L1 conversion for ${apiVersion} ${kind}`];
    const converted = JSON.stringify(conversion(boxLeaves(rest)));
    const rendered = JSON.stringify(rest);
    return converted === rendered ? [] : [`${object.node.path}: the L1 conversion of ${kind} changes it\n    rendered:  ${rendered}\n    converted: ${converted}`];
  });
}
