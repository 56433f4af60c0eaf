import { Chart, Testing } from 'cdk8s';
import { CrdFamily, GATEWAY_API_CRDS, ISTIO_CRDS, bundlesFor, crdsDir, familyDir, loadFamily, requireBundlesInCi } from './crd-schemas';
import { validateEnvoyFilter } from './envoy-protos';
import { validateWithKubernetesModels } from './kubernetes-models';
import { IstioVersion } from '../../src';

export { validateEnvoyFilter, validateEnvoyMessage } from './envoy-protos';
export { validateWithKubernetesModels } from './kubernetes-models';
export { CrdBundle, GATEWAY_API_CRDS, ISTIO_CRDS, crdsDir, familyDir, loadBundles, loadFamily, requireBundlesInCi } from './crd-schemas';

/** Options for `synthAndValidate`. */
export interface ValidateOptions {
  /** The Istio release the chart was made for: its CRD bundle and every newer one must accept the output. */
  readonly istioVersion?: IstioVersion;
}

const skipReported = new Set<string>();

/** The CRD family whose schemas an apiVersion belongs to, if any. */
function familyOf(apiVersion: unknown): CrdFamily | undefined {
  const group = String(apiVersion).split('/')[0];
  if (group.endsWith('istio.io')) return ISTIO_CRDS;
  if (group === 'gateway.networking.k8s.io') return GATEWAY_API_CRDS;
  return undefined;
}

/** Errors of the strict CRD schemas that an object made for Istio `istioVersion` must pass. */
function validateWithCrds(manifest: any, family: CrdFamily, istioVersion: IstioVersion): string[] {
  const bundles = loadFamily(family);
  if (bundles.length === 0) {
    // Under CI the run fails closed (global-setup checks first; this covers a run without it).
    requireBundlesInCi([family]);
    if (!skipReported.has(family.name)) {
      skipReported.add(family.name);
      // One clear line, never a silent pass: the other validators still ran.
      process.stderr.write(`SKIPPED: ${family.name} CRD schema validation (set ${family.env} to the folder holding its bundles)\n`);
    }
    return [];
  }
  return bundlesFor(istioVersion.minor, bundles, family).flatMap(bundle => bundle.validate(manifest));
}

/** Errors of every validator for one manifest. */
export function validateManifest(manifest: any, options: ValidateOptions = {}): string[] {
  const errors = [...validateWithKubernetesModels(manifest)];
  // The API server rejects an object without a name, and neither schema requires one.
  if (typeof manifest.metadata?.name !== 'string' || manifest.metadata.name === '') {
    errors.push(`${manifest.kind}: metadata.name is missing`);
  }
  const family = familyOf(manifest.apiVersion);
  if (family) errors.push(...validateWithCrds(manifest, family, options.istioVersion ?? IstioVersion.LATEST));
  if (manifest.kind === 'EnvoyFilter') errors.push(...validateEnvoyFilter(manifest));
  return errors;
}

/**
 * Synthesises `chart` (running every construct validation of the app) and fails unless every object passes
 * kubernetes-models / @kubernetes-models/istio, the strict CRD schemas of the Istio bundles in
 * `$ISTIO_CRDS_DIR`, and Envoy's protos for every EnvoyFilter patch. Returns the manifests.
 */
export function synthAndValidate(chart: Chart, options: ValidateOptions = {}): any[] {
  const manifests = Testing.synth(chart);
  const errors = manifests.flatMap(m => validateManifest(m, options));
  if (errors.length > 0) {
    throw new Error(`synthesised manifests failed validation:\n  ${errors.join('\n  ')}`);
  }
  return manifests;
}

/**
 * The warnings every chart made for `istioVersion` gets, whatever it holds: one naming the upstream status of a
 * release past its end of life (as `expect` matchers, for `toEqual`).
 */
export function releaseWarnings(istioVersion: IstioVersion): unknown[] {
  if (istioVersion.supportedUpstream) return [];
  return [expect.stringMatching(new RegExp(`^istioVersion ${istioVersion.label.replace('.', '\\.')} is past its end of life upstream`))];
}

/** True when the Istio CRD bundles are available, for tests that must report themselves skipped otherwise. */
export function hasCrdBundles(): boolean {
  return crdsDir() !== undefined;
}

/** True when the Gateway API CRD bundles are available. */
export function hasGatewayApiCrdBundles(): boolean {
  return familyDir(GATEWAY_API_CRDS) !== undefined;
}

/** Finds one manifest by kind (and name), failing loudly when absent. */
export function findManifest(manifests: any[], kind: string, name?: string): any {
  const found = manifests.find(m => m.kind === kind && (name === undefined || m.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? `/${name}` : ''} among ${manifests.map(m => `${m.kind}/${m.metadata?.name}`).join(', ')}`);
  return found;
}

/** Every manifest of one kind. */
export function manifestsOfKind(manifests: any[], kind: string): any[] {
  return manifests.filter(m => m.kind === kind);
}
