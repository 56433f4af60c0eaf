import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { parseAllDocuments } from 'yaml';
import { contentHash, isComplete, packageVersion, preparedDir, writeAtomically } from './prepared-cache';

/** One release of a CRD family: its files (a kind comes from the first file that serves it) and its lowest Istio minor. */
export interface BundleSpec {
  readonly bundle: string;
  /** The oldest Istio 1.x minor that uses this release. */
  readonly minor: number;
  readonly files: string[];
}

/** A family of CRD bundles (Istio's own, the Kubernetes Gateway API), oldest release first. */
export interface CrdFamily {
  readonly name: string;
  /** The environment variable naming the folder with the bundles. */
  readonly env: string;
  /** The folder's name in ../shared, the default. */
  readonly sharedFolder: string;
  readonly bundles: BundleSpec[];
}

/**
 * The Istio CRD bundles the harness knows, oldest first: releases 1.24.6, 1.28.10 and 1.30.3, master of 2026-08-22
 * (HEAD: its VERSION reads 1.32, a month after the release-1.31 branch point; no 1.31 bundle is available, so it
 * stands for 1.31) and the CRDs of istio.io/api v1.32.0.
 */
export const ISTIO_CRDS: CrdFamily = {
  name: 'istio',
  env: 'ISTIO_CRDS_DIR',
  sharedFolder: 'istio-crds',
  bundles: ['1.24.6:24', '1.28.10:28', '1.30.3:30', 'HEAD:31', '1.32.0:32'].map(s => {
    const [bundle, minor] = s.split(':');
    return { bundle, minor: Number(minor), files: [`crd-all.gen.${bundle}.yaml`] };
  }),
};

/**
 * The Gateway API releases that bound what the supported Istio versions use: v1.2.1 (Istio 1.24 and 1.25) and
 * v1.6.1 (Istio 1.31 and 1.32, which use v1.6.0; the newest available for 1.26 to 1.30, which use v1.3 to v1.5.1). Standard channel first,
 * so a kind is checked against the experimental schema only where the standard channel lacks it (TCPRoute and
 * TLSRoute in v1.2.1).
 */
export const GATEWAY_API_CRDS: CrdFamily = {
  name: 'gateway-api',
  env: 'GATEWAY_API_CRDS_DIR',
  sharedFolder: 'gateway-api-crds',
  bundles: ['v1.2.1:24', 'v1.6.1:26'].map(s => {
    const [bundle, minor] = s.split(':');
    return { bundle, minor: Number(minor), files: ['standard', 'experimental'].map(c => `gateway-api-${bundle}-${c}.yaml`) };
  }),
};

/** @deprecated kept for callers of the first harness: the Istio bundles. */
export const CRD_BUNDLES = ISTIO_CRDS.bundles;

/** Where a family's bundles live: its environment variable, else its folder in `../shared` next to the checkout. */
export function familyDir(family: CrdFamily): string | undefined {
  const candidates = [process.env[family.env], path.resolve(__dirname, '..', '..', '..', 'shared', family.sharedFolder)];
  for (const dir of candidates) {
    if (dir && family.bundles.every(b => b.files.every(f => fs.existsSync(path.join(dir, f))))) return dir;
  }
  return undefined;
}

/**
 * The harness fails closed under CI (`CI=true`, as .ci/run sets it): a family without its bundles would drop every
 * CRD schema check of its objects, and a check that cannot fail is no check. Outside CI the missing family is
 * reported as SKIPPED instead (a developer without ../shared still runs the other validators).
 *
 * @param families the CRD families whose bundles must be present
 * @param ci whether the run is a CI run
 */
export function requireBundlesInCi(families: readonly CrdFamily[], ci: boolean = process.env.CI === 'true'): void {
  if (!ci) return;
  const missing = families.filter(f => familyDir(f) === undefined);
  if (missing.length === 0) return;
  throw new Error(`CI=true, but the CRD bundles of ${missing.map(f => `${f.name} (${f.env}, or ../shared/${f.sharedFolder})`).join(' and ')} are missing: `
    + `the schema checks of their objects would be dropped; set ${missing.map(f => f.env).join(' and ')} to the folder holding ${missing.flatMap(f => f.bundles.flatMap(b => b.files)).join(', ')}`);
}

/** Where the Istio bundles live: `$ISTIO_CRDS_DIR`, else `../shared/istio-crds` next to the checkout. */
export function crdsDir(): string | undefined {
  return familyDir(ISTIO_CRDS);
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

/** The served schemas of a bundle's files, keyed by `group/version/Kind`; the first file serving a key wins. */
function servedSchemas(files: string[]): Map<string, any> {
  const schemas = new Map<string, any>();
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec.versions) {
        const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
        if (v.served === false || schemas.has(key)) continue;
        schemas.set(key, v.schema.openAPIV3Schema);
      }
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
 * Compiles every served schema of every bundle of `family` into a standalone validator module, once per test run
 * (jest globalSetup). Returns the folder, or undefined when the bundles are absent.
 */
export function prepareCrdValidators(family: CrdFamily = ISTIO_CRDS, dir: string | undefined = familyDir(family)): string | undefined {
  const prepared = preparedCrdDir(family, dir);
  if (!prepared || isComplete(prepared)) return prepared;
  writeAtomically(prepared, tmp => {
    for (const spec of family.bundles) {
      const out = path.join(tmp, spec.bundle);
      fs.mkdirSync(out);
      const index: Record<string, string> = {};
      let n = 0;
      for (const [key, raw] of servedSchemas(spec.files.map(f => path.join(dir!, f)))) {
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

/** Where the prepared validators of a family's bundles in `dir` live, keyed by their content and this harness. */
function preparedCrdDir(family: CrdFamily, dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  const inputs = family.bundles.flatMap(b => b.files.map(f => path.join(dir, f)))
    .concat([__filename.replace(/\.js$/, '.ts'), path.join(__dirname, 'prepared-cache.ts')].filter(f => fs.existsSync(f)));
  return preparedDir(`${family.name}-validators`, contentHash(inputs, [packageVersion('ajv')]));
}

/** Strict validator for one CRD bundle: prepared validators when globalSetup made them, else compiled here. */
export class CrdBundle {
  private readonly schemas = new Map<string, any>();
  private readonly prepared = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private ajv?: Ajv;

  constructor(public readonly name: string, files: string[], preparedBundleDir?: string, private readonly label = name) {
    if (preparedBundleDir) {
      const index: Record<string, string> = JSON.parse(fs.readFileSync(path.join(preparedBundleDir, INDEX_FILE), 'utf-8'));
      for (const [key, f] of Object.entries(index)) this.prepared.set(key, path.join(preparedBundleDir, f));
    } else {
      this.schemas = servedSchemas(files);
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
    if (!fn) return [`${this.label} does not serve ${key}`];
    if (fn(manifest)) return [];
    return (fn.errors ?? []).map(e => `${this.label} CRD: ${manifest.kind}/${manifest.metadata?.name}: ${e.instancePath || '/'} ${e.message}`
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

/** Loads (once per test file) the bundles of a family, or reports that they are absent (an empty list). */
export function loadFamily(family: CrdFamily, dir: string | undefined = familyDir(family)): CrdBundle[] {
  if (!dir) return [];
  const prepared = preparedCrdDir(family, dir);
  const usePrepared = prepared !== undefined && isComplete(prepared);
  return family.bundles.map(spec => {
    const files = spec.files.map(f => path.join(dir, f));
    const cacheKey = files.join('\n');
    let b = cache.get(cacheKey);
    if (!b) {
      b = new CrdBundle(spec.bundle, files, usePrepared ? path.join(prepared!, spec.bundle) : undefined, `${family.name} ${spec.bundle}`);
      cache.set(cacheKey, b);
    }
    return b;
  });
}

/** Loads (once per test file) the Istio bundles of `dir`, or reports that they are absent. */
export function loadBundles(dir: string | undefined = crdsDir()): CrdBundle[] {
  return loadFamily(ISTIO_CRDS, dir);
}

/**
 * The bundles an object made for Istio 1.`minor` must pass: those of the release that Istio version uses and
 * every newer one. `bundles` are a family's bundles as `loadFamily` returns them (same order as `family.bundles`).
 */
export function bundlesFor(minor: number, bundles: CrdBundle[], family: CrdFamily = ISTIO_CRDS): CrdBundle[] {
  const specs = family.bundles;
  const floor = [...specs].reverse().find(b => b.minor <= minor) ?? specs[0];
  return bundles.filter((_b, i) => specs[i].minor >= floor.minor);
}
