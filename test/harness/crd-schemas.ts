import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { parseAllDocuments } from 'yaml';
import { contentHash, isComplete, packageVersion, preparedDir, writeAtomically } from './prepared-cache';

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

function newAjv(source = false): Ajv {
  return new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { source } });
}

/** The served schemas of a CRD bundle file, keyed by `group/version/Kind`. */
function servedSchemas(file: string): Map<string, any> {
  const schemas = new Map<string, any>();
  for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const v of crd.spec.versions) {
      if (v.served === false) continue;
      schemas.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  }
  return schemas;
}

/** The schema a manifest is checked against: the CRD's, closed, with the object's own top-level fields. */
function strictManifestSchema(raw: any): any {
  const schema = closeObjects(structuredClone(raw));
  schema.properties = { ...schema.properties, metadata: { type: 'object' }, apiVersion: { type: 'string' }, kind: { type: 'string' } };
  schema.additionalProperties = false;
  return schema;
}

const INDEX_FILE = 'index.json';

/**
 * Compiles every served schema of every bundle in `dir` into a standalone validator module, once per test run
 * (jest globalSetup). Returns the folder, or undefined when the bundles are absent.
 */
export function prepareCrdValidators(dir: string | undefined = crdsDir()): string | undefined {
  const prepared = preparedCrdDir(dir);
  if (!prepared || isComplete(prepared)) return prepared;
  writeAtomically(prepared, tmp => {
    for (const { bundle } of CRD_BUNDLES) {
      const out = path.join(tmp, bundle);
      fs.mkdirSync(out);
      const index: Record<string, string> = {};
      let n = 0;
      for (const [key, raw] of servedSchemas(path.join(dir!, `crd-all.gen.${bundle}.yaml`))) {
        const ajv = newAjv(true);
        const file = `${n++}.js`;
        fs.writeFileSync(path.join(out, file), standaloneCode(ajv, ajv.compile(strictManifestSchema(raw))));
        index[key] = file;
      }
      fs.writeFileSync(path.join(out, INDEX_FILE), JSON.stringify(index));
    }
  });
  return prepared;
}

/** Where the prepared validators of the bundles in `dir` live, keyed by their content and this harness. */
function preparedCrdDir(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  const inputs = CRD_BUNDLES.map(({ bundle }) => path.join(dir, `crd-all.gen.${bundle}.yaml`))
    .concat([__filename.replace(/\.js$/, '.ts'), path.join(__dirname, 'prepared-cache.ts')].filter(f => fs.existsSync(f)));
  return preparedDir('crd-validators', contentHash(inputs, [packageVersion('ajv')]));
}

/** Strict validator for one Istio CRD bundle: prepared validators when globalSetup made them, else compiled here. */
export class CrdBundle {
  private readonly schemas = new Map<string, any>();
  private readonly prepared = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private ajv?: Ajv;

  constructor(public readonly name: string, file: string, preparedBundleDir?: string) {
    if (preparedBundleDir) {
      const index: Record<string, string> = JSON.parse(fs.readFileSync(path.join(preparedBundleDir, INDEX_FILE), 'utf-8'));
      for (const [key, f] of Object.entries(index)) this.prepared.set(key, path.join(preparedBundleDir, f));
    } else {
      this.schemas = servedSchemas(file);
    }
  }

  /** True when this bundle serves the object's apiVersion and kind. */
  public serves(manifest: any): boolean {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    return this.prepared.has(key) || this.schemas.has(key);
  }

  /** Errors for one manifest, `[]` when valid; a kind this bundle does not serve is an error. */
  public validate(manifest: any): string[] {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    const fn = this.validatorFor(key);
    if (!fn) return [`istio ${this.name} does not serve ${key}`];
    if (fn(manifest)) return [];
    return (fn.errors ?? []).map(e => `istio ${this.name} CRD: ${manifest.kind}/${manifest.metadata?.name}: ${e.instancePath || '/'} ${e.message}`
      + (e.params && 'additionalProperty' in e.params ? ` (${(e.params as any).additionalProperty})` : '')
      + (e.params && 'allowedValues' in e.params ? ` (${(e.params as any).allowedValues.join(', ')})` : ''));
  }

  private validatorFor(key: string): ValidateFunction | undefined {
    let fn = this.compiled.get(key);
    if (fn) return fn;
    const preparedFile = this.prepared.get(key);
    if (preparedFile) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      fn = require(preparedFile) as ValidateFunction;
    } else {
      const raw = this.schemas.get(key);
      if (!raw) return undefined;
      this.ajv ??= newAjv();
      fn = this.ajv.compile(strictManifestSchema(raw));
    }
    this.compiled.set(key, fn);
    return fn;
  }
}

const cache = new Map<string, CrdBundle>();

/** Loads (once per test file) the bundles of `dir`, or reports that they are absent. */
export function loadBundles(dir: string | undefined = crdsDir()): CrdBundle[] {
  if (!dir) return [];
  const prepared = preparedCrdDir(dir);
  const usePrepared = prepared !== undefined && isComplete(prepared);
  return CRD_BUNDLES.map(({ bundle }) => {
    const file = path.join(dir, `crd-all.gen.${bundle}.yaml`);
    let b = cache.get(file);
    if (!b) {
      b = new CrdBundle(bundle, file, usePrepared ? path.join(prepared!, bundle) : undefined);
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
