import { App, Chart } from 'cdk8s';
import { ExplainReport } from './explain-report';
import { parseManifests, parseYamlDocuments } from './manifest-parser';
import { tracePaths } from './path-tracer';

/**
 * Explains which client address every hop sees, for Kubernetes and Istio manifests (ours or hand-written):
 * client -> load balancer -> node -> gateway -> sidecar -> app, with the AuthorizationPolicy rules that match
 * and every place the client IP is lost or spoofable.
 */
export class Explainer {
  /** Explains parsed manifest objects (e.g. `chart.toJson()` or YAML documents). */
  public static fromManifests(objects: any[]): ExplainReport {
    if (!Array.isArray(objects)) {
      throw new Error(`objects ${JSON.stringify(objects)} is not a list: give the manifest objects, e.g. chart.toJson()`);
    }
    const parsed = parseManifests(objects);
    const paths = tracePaths(parsed);
    return new ExplainReport(paths, parsed.findings, parsed.skipped);
  }

  /**
   * Explains multi-document YAML or JSON text (a `kubectl get -o yaml` List is flattened). Throws an
   * error naming the document when the text cannot be read.
   */
  public static fromYaml(text: string): ExplainReport {
    return Explainer.fromManifests(parseYamlDocuments(text));
  }

  /** Explains every chart of a cdk8s app (synthesised in memory; nothing is written). */
  public static fromApp(app: App): ExplainReport {
    return Explainer.fromManifests(app.charts.flatMap(c => c.toJson()));
  }

  /** Explains one chart. */
  public static fromChart(chart: Chart): ExplainReport {
    return Explainer.fromManifests(chart.toJson());
  }

  private constructor() {}
}
