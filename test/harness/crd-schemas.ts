import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

/** The Istio CRD bundles the harness knows, oldest first, keyed by the bundle's file suffix. */
export const CRD_BUNDLES: ReadonlyArray<{ readonly bundle: string; readonly minor: number }> = [
  { bundle: '1.24.6', minor: 24 },
  { bundle: '1.28.10', minor: 28 },
  { bundle: '1.30.3', minor: 30 },
  { bundle: 'HEAD', minor: 31 },
];

/** Where the bundles live: `$ISTIO_CRDS_DIR`, else `../shared/istio-crds` next to the checkout. */
export function crdsDir(): string | undefined {
  const candidates = [process.env.ISTIO_CRDS_DIR, path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-crds')];
  for (const dir of candidates) {
    if (dir && fs.existsSync(path.join(dir, 'crd-all.gen.HEAD.yaml'))) return dir;
  }
  return undefined;
}

/**
 * Mirrors `kubectl --validate=strict`: every object schema with `properties` is closed unless it carries
 * `x-kubernetes-preserve-unknown-fields`.
 */
function closeObjects(schema: any): any {
  if (Array.isArray(schema)) {
    schema.forEach(closeObjects);
  } else if (schema && typeof schema === 'object') {
    if (schema.type === 'object' && schema.properties && schema.additionalProperties === undefined
      && !schema['x-kubernetes-preserve-unknown-fields']) {
      schema.additionalProperties = false;
    }
    for (const v of Object.values(schema)) closeObjects(v);
  }
  return schema;
}

/** Strict validator for one Istio CRD bundle; schemas are compiled on first use. */
export class CrdBundle {
  private readonly schemas = new Map<string, any>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

  constructor(public readonly name: string, file: string) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec.versions) {
        if (v.served === false) continue;
        this.schemas.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
      }
    }
  }

  /** True when this bundle serves the object's apiVersion and kind. */
  public serves(manifest: any): boolean {
    return this.schemas.has(`${manifest.apiVersion}/${manifest.kind}`);
  }

  /** Errors for one manifest, `[]` when valid; a kind this bundle does not serve is an error. */
  public validate(manifest: any): string[] {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    const raw = this.schemas.get(key);
    if (!raw) return [`istio ${this.name} does not serve ${key}`];
    let fn = this.compiled.get(key);
    if (!fn) {
      const schema = closeObjects(structuredClone(raw));
      schema.properties = { ...schema.properties, metadata: { type: 'object' }, apiVersion: { type: 'string' }, kind: { type: 'string' } };
      schema.additionalProperties = false;
      fn = this.ajv.compile(schema);
      this.compiled.set(key, fn);
    }
    if (fn(manifest)) return [];
    return (fn.errors ?? []).map(e => `istio ${this.name} CRD: ${manifest.kind}/${manifest.metadata?.name}: ${e.instancePath || '/'} ${e.message}`
      + (e.params && 'additionalProperty' in e.params ? ` (${(e.params as any).additionalProperty})` : '')
      + (e.params && 'allowedValues' in e.params ? ` (${(e.params as any).allowedValues.join(', ')})` : ''));
  }
}

const cache = new Map<string, CrdBundle>();

/** Loads (once per test file) the bundles of `dir`, or reports that they are absent. */
export function loadBundles(dir: string | undefined = crdsDir()): CrdBundle[] {
  if (!dir) return [];
  return CRD_BUNDLES.map(({ bundle }) => {
    const file = path.join(dir, `crd-all.gen.${bundle}.yaml`);
    let b = cache.get(file);
    if (!b) {
      b = new CrdBundle(bundle, file);
      cache.set(file, b);
    }
    return b;
  });
}

/** The bundles an object made for Istio 1.`minor` must pass: that version's bundle and every newer one. */
export function bundlesFor(minor: number, bundles: CrdBundle[]): CrdBundle[] {
  const floor = [...CRD_BUNDLES].reverse().find(b => b.minor <= minor) ?? CRD_BUNDLES[0];
  return bundles.filter(b => CRD_BUNDLES.find(x => x.bundle === b.name)!.minor >= floor.minor);
}
