/**
 * Third-party schemas from npm: `@kubernetes-models/istio` for Istio kinds, `@kubernetes-models/gateway-api` for the
 * Kubernetes Gateway API and `kubernetes-models` for core kinds. All ship ESM only; jest loads them through test/esm-only-resolver.js and the ts-jest transform.
 */
function modelPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group.endsWith('istio.io')) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
  if (group === 'gateway.networking.k8s.io') return `@kubernetes-models/gateway-api/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

const models = new Map<string, any>();

function modelFor(apiVersion: string, kind: string): any {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    let model: any;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      model = require(modelPath(apiVersion, kind))[kind];
    } catch {
      model = undefined;
    }
    models.set(key, model);
  }
  return models.get(key);
}

/**
 * The newest published models (2.0.0) predate TCPRoute v1 (Gateway API v1.6, read by Istio 1.31): its schema is
 * v1alpha2's (the CRD check validates v1 itself), so the v1alpha2 model checks it under that apiVersion.
 */
const MODEL_VERSION_ALIASES: { [key: string]: string } = {
  'gateway.networking.k8s.io/v1/TCPRoute': 'gateway.networking.k8s.io/v1alpha2',
};

/** Errors for one manifest; an apiVersion/kind without a published model is an error, never a pass. */
export function validateWithKubernetesModels(manifest: any): string[] {
  const apiVersion = MODEL_VERSION_ALIASES[`${manifest.apiVersion}/${manifest.kind}`] ?? manifest.apiVersion;
  const Model = modelFor(apiVersion, manifest.kind);
  if (!Model) return [`kubernetes-models: no model for ${manifest.apiVersion} ${manifest.kind}`];
  try {
    new Model({ ...structuredClone(manifest), apiVersion }).validate();
    return [];
  } catch (e: any) {
    const details = (e.errors ?? []).map((x: any) => `${x.instancePath || '/'} ${x.message}`).join('; ');
    return [`kubernetes-models: ${manifest.kind}/${manifest.metadata?.name}: ${details || e.message}`];
  }
}
