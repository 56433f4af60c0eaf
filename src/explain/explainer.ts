import { App, Chart } from 'cdk8s';
import { ExplainReport } from './explain-report';
import { HelmChart, HelmValues } from './helm-values';
import type * as ManifestParser from './manifest-parser';
import { namespaceIngressUseWaypointFindings } from '../model/ambient';
import { alphaRouteFindings, GATEWAY_API_GROUP } from '../model/gateway-api';
import { IstioVersion } from '../model/istio-version';
import type * as AppTrace from '../trace/app-trace';

/** Options of `Explainer`. */
export interface ExplainOptions {
  /**
   * The Istio release the cluster runs: it decides Envoy's defaults (Istio 1.24 / Envoy 1.32 treats private
   * addresses as internal).
   *
   * @default - the release the manifests name in the `source-ip.cdk8s.io/istio-version` annotation, else IstioVersion.LATEST
   */
  readonly istioVersion?: IstioVersion;

  /**
   * Values of Istio Helm releases, read next to the manifests: the istiod chart's `meshConfig` (root namespace,
   * `defaultConfig.gatewayTopology` and `interceptionMode`) and the gateways the gateway chart installs. The `istio`
   * ConfigMap and IstioOperators in the manifests are read without this.
   *
   * @default - no Helm values
   */
  readonly helmValues?: HelmValues[];
}

/**
 * Explains which client address every hop sees, for Kubernetes and Istio manifests (ours or hand-written):
 * client -> load balancer -> node -> gateway -> sidecar -> app, with the AuthorizationPolicy rules that match
 * and every place the client IP is lost or spoofable.
 */
export class Explainer {
  /** Explains parsed manifest objects (e.g. `chart.toJson()` or YAML documents). */
  public static fromManifests(objects: any[], options: ExplainOptions = {}): ExplainReport {
    if (!Array.isArray(objects)) {
      throw new Error(`objects ${JSON.stringify(objects)} is not a list: give the manifest objects, e.g. chart.toJson()`);
    }
    const parsed = parser().parseManifests(objects, checkedHelmValues(options.helmValues));
    const traced = appTrace().trace(parsed, options.istioVersion);
    // What the explained release does with objects it reads at all (routes behind a flag, a label read later).
    const version = options.istioVersion ?? parsed.istioVersion ?? IstioVersion.LATEST;
    const versionFindings = [
      ...alphaRouteFindings(streamRoutes(objects), version), ...namespaceIngressUseWaypointFindings(namespaces(objects), version),
    ];
    return new ExplainReport(traced.paths, [...parsed.findings, ...traced.findings, ...traced.checks, ...versionFindings], parsed.skipped);
  }

  /**
   * Explains multi-document YAML or JSON text (a `kubectl get -o yaml` List is flattened). Throws an
   * error naming the document when the text cannot be read.
   */
  public static fromYaml(text: string, options: ExplainOptions = {}): ExplainReport {
    return Explainer.fromManifests(parser().parseYamlDocuments(text), options);
  }

  /** Explains every chart of a cdk8s app (synthesised in memory; nothing is written). */
  public static fromApp(app: App, options: ExplainOptions = {}): ExplainReport {
    return Explainer.fromManifests(app.charts.flatMap(c => c.toJson()), options);
  }

  /** Explains one chart. */
  public static fromChart(chart: Chart, options: ExplainOptions = {}): ExplainReport {
    return Explainer.fromManifests(chart.toJson(), options);
  }

  private constructor() {}
}

function checkedHelmValues(helmValues: HelmValues[] | undefined): HelmValues[] {
  if (helmValues === undefined || helmValues === null) return [];
  if (!Array.isArray(helmValues)) throw new Error(`helmValues ${shortJson(helmValues)} is not a list: give [{ chart: HelmChart.ISTIOD, values: {...} }]`);
  helmValues.forEach((h, i) => {
    if (h === null || typeof h !== 'object' || !Object.values(HelmChart).includes(h.chart)) {
      throw new Error(`helmValues[${i}].chart ${shortJson(h?.chart)} is not allowed: use HelmChart.ISTIOD or HelmChart.GATEWAY`);
    }
    if (h.values === null || typeof h.values !== 'object' || Array.isArray(h.values)) {
      throw new Error(`helmValues[${i}].values ${shortJson(h.values)} is not a map: give the parsed values file, e.g. { meshConfig: { ... } }`);
    }
  });
  return helmValues;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The Gateway API TCPRoutes and TLSRoutes of the input, for the alpha-API check. */
/**
 * The manifest reader (and its YAML parser), loaded on first use: `require('cdk8s-istio-source-ip')` loads the
 * constructs and the model only, so that apps that never explain do not pay for the reader at start-up.
 */
function parser(): typeof ManifestParser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./manifest-parser');
}

/** The trace, loaded on first use for the same reason. */
function appTrace(): typeof AppTrace {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../trace/app-trace');
}

function streamRoutes(objects: unknown[]): Array<{ kind: string; where: string }> {
  return objects.flatMap(o => {
    const m = o as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    if (m === null || typeof m !== 'object' || (m.kind !== 'TCPRoute' && m.kind !== 'TLSRoute') || !String(m.apiVersion).startsWith(`${GATEWAY_API_GROUP}/`)) return [];
    const name = typeof m.metadata?.name === 'string' ? m.metadata.name : 'unnamed';
    const namespace = typeof m.metadata?.namespace === 'string' ? m.metadata.namespace : 'default';
    return [{ kind: m.kind, where: `${m.kind} ${namespace}/${name}` }];
  });
}

/** The Namespaces of the input with their labels, for the ingress-use-waypoint check. */
function namespaces(objects: unknown[]): Array<{ name: string; labels?: { [key: string]: string } }> {
  return objects.flatMap(o => {
    const m = o as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; labels?: unknown } } | null;
    if (m === null || typeof m !== 'object' || m.kind !== 'Namespace' || m.apiVersion !== 'v1' || typeof m.metadata?.name !== 'string') return [];
    const labels = m.metadata.labels !== null && typeof m.metadata.labels === 'object' ? m.metadata.labels as { [key: string]: string } : undefined;
    return [{ name: m.metadata.name, ...(labels ? { labels } : {}) }];
  });
}
