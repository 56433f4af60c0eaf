/** An Istio Helm chart whose values `explain` reads. */
export enum HelmChart {
  /**
   * `istio/istiod` (istio-discovery): `meshConfig` (with `defaultConfig.gatewayTopology` and
   * `defaultConfig.interceptionMode`), `revision` and `global.istioNamespace`.
   */
  ISTIOD = 'istiod',
  /** `istio/gateway`: `name`, `labels`, `revision`, `kind`, `podAnnotations`, `annotations` and `service`. */
  GATEWAY = 'gateway',
}

/**
 * The values of one Helm release of an Istio chart, as given to `helm install -f`. Helm values are not
 * Kubernetes objects, so they are passed next to the manifests (`ExplainOptions.helmValues`, or
 * `--helm-values chart=file` on the command line).
 */
export interface HelmValues {
  /** The chart the values are for. */
  readonly chart: HelmChart;
  /** The values: the parsed YAML map of the values file. */
  readonly values: { [key: string]: any };
  /**
   * The release name (`helm install <release>`); the gateway chart names its Deployment, Service and selector
   * labels after it unless `values.name` is set.
   *
   * @default - "istio-ingressgateway" (the gateway chart's own fallback name)
   */
  readonly releaseName?: string;
  /**
   * The release namespace (`helm install -n <namespace>`): where the gateway chart installs the gateway. The istiod
   * chart's root namespace does not follow it: it is `meshConfig.rootNamespace`, else `global.istioNamespace`.
   *
   * @default - "istio-ingress" (the namespace of Istio's Helm guide)
   */
  readonly namespace?: string;
  /**
   * Where the values came from, for findings (e.g. the file name).
   *
   * @default - "<chart> Helm values"
   */
  readonly source?: string;
}
