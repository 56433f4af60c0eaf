import { ApiObject, Chart, Testing } from 'cdk8s';

/*
 * Both sides of one check on the same objects: what the constructs render when cdk8s's validation is skipped (they
 * refuse these inputs), and the validation errors cdk8s reports for them.
 */

/** Every ApiObject of the chart rendered as it would be, without cdk8s's validation (which refuses these inputs). */
export function unvalidatedManifests(chart: Chart): any[] {
  return chart.node.findAll().filter(ApiObject.isApiObject).map(o => o.toJson());
}

/** The validation errors cdk8s reports for the chart, as `[path] text` lines. */
export function validationErrors(chart: Chart): string[] {
  try {
    Testing.synth(chart);
    return [];
  } catch (e) {
    return (e as Error).message.split('\n').slice(1).map(line => line.trim());
  }
}
