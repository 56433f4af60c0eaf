import { escapeForTerminal } from './escape';
import { HelmChart } from './helm-values';

/*
 * The `chart[:namespace/release]=file` form of Helm values that the explain command (`--helm-values`) and the cdk8s
 * validation plugin (`helmValues`) take: one parser for both.
 */

/** One `--helm-values` argument, parsed. */
export interface HelmSpec {
  readonly chart: HelmChart;
  readonly file: string;
  readonly namespace?: string;
  readonly releaseName?: string;
}

/** `chart[:namespace/release]=file`, or the message that says what is wrong with it (`option` names the setting). */
export function parseHelmSpec(value: string, option = '--helm-values'): HelmSpec | string {
  const match = /^([a-z]+)(?::([^/=]+)\/([^/=]+))?=(.+)$/.exec(value);
  const shown = escapeForTerminal(JSON.stringify(value));
  if (!match) return `${option} ${shown} is not chart[:namespace/release]=file, e.g. ${option} istiod=istiod-values.yaml or ${option} gateway:istio-ingress/ingress=gateway-values.yaml`;
  const chart = Object.values(HelmChart).find(c => c === match[1]);
  if (chart === undefined) return `${option}: chart "${escapeForTerminal(match[1])}" is not read by explain: use istiod or gateway`;
  return { chart, file: match[4], ...(match[2] !== undefined ? { namespace: match[2], releaseName: match[3] } : {}) };
}
