import { App, Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { expectationsOf } from './expectations';
import { certificateSecrets, FixtureSet, inCharts } from './fixtures';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, ISTIO_VERSION_CONTEXT_KEY, IstioVersion } from '../../src';
import { synthAndValidate } from '../harness';
import { AppSpec, appSpec, buildApp } from '../property/app-properties';

/*
 * A sample of the property suite's accepted apps as object sets (issue 26): apps of several charts, one cluster across
 * the charts or charts that are alternatives (a cluster each), with gateways of both kinds and flavours, TPROXY and
 * labelled sidecars, XFF filters, client-address headers and policies. Drawn from `appSpec`
 * (test/property/app-properties.ts) with a fixed seed, so that the same sets go through istiod on every run; apps the
 * library refuses are skipped, as the property suite skips them. Their expectations are the trace over the
 * constructs of each cluster, like the example charts'. Ambient workloads are left out of the sample: the ambient
 * comparison (test/conformance/ambient.test.ts) covers the example app's and the scenarios' ambient sets.
 */

/** How many accepted apps the sample holds, and the seed it is drawn with. */
export const PROPERTY_SAMPLE_SIZE = 12;
const SEED = 26;

/** The specs of the sample: the first accepted, ambient-free apps of the fixed seed. */
function sampleSpecs(version: IstioVersion | undefined): AppSpec[] {
  const candidates = fc.sample(appSpec, { seed: SEED, numRuns: 400 })
    .filter(s => s.clusters.every(c => c.workloads.every(w => w.kind !== 'ambient')))
    .map(s => ({ ...s, istioVersion: version }));
  const accepted: AppSpec[] = [];
  for (const spec of candidates) {
    if (accepted.length === PROPERTY_SAMPLE_SIZE) break;
    try {
      appOf(spec).synth();
      accepted.push(spec);
    } catch {
      // refused by the library (a validation error): not a set
    }
  }
  return accepted;
}

function appOf(spec: AppSpec): App {
  const app = Testing.app();
  if (spec.istioVersion) app.node.setContext(ISTIO_VERSION_CONTEXT_KEY, spec.istioVersion.label);
  if (spec.alternatives) app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  buildApp(app, spec);
  return app;
}

/** The sample as object sets: `property-<n>` for an app that is one cluster, `property-<n>-<chart>` per alternative. */
export function propertySampleSets(version?: IstioVersion): FixtureSet[] {
  return sampleSpecs(version).flatMap((spec, n) => {
    const app = appOf(spec);
    const clusters: Array<{ name: string; charts: Chart[] }> = spec.alternatives
      ? app.charts.map(c => ({ name: `property-${n}-${c.node.id}`, charts: [c] }))
      : [{ name: `property-${n}`, charts: app.charts }];
    return clusters.map(({ name, charts }) => {
      const synthesised = charts.flatMap(c => synthAndValidate(c, version ? { istioVersion: version } : {}));
      const manifests = [...synthesised, ...certificateSecrets(synthesised)];
      return {
        name,
        manifests,
        declaredPolicies: [],
        declaredProxies: [],
        expectations: expectationsOf(app, inCharts(charts)),
      };
    });
  });
}
