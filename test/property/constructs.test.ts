import { appProperties } from './app-properties';
import {
  DEFAULT_FUZZ_RUNS, FUZZ_RUNS, MIN_CASES_PER_CI_RUN, acceptedCounter, caseCounter, constructCases, constructProperties, rejectionCounter, totalCases,
} from './arbitraries';
import { explainProperties, MANIFEST_SET_PROPERTY, MULTI_DOCUMENT_PROPERTY, slowest } from './explain-properties';
import { fieldCheckCounter } from './field-against-trace';
import { ingressProperties } from './ingress-properties';
import { meshAndPolicyProperties } from './mesh-policy-properties';
import { resolutionCounter } from './resolution-agreement';
import { roundTripCounter } from './round-trip';
import { selectorScopeCounter } from './selector-scope';
import { verifyCounter, verifyJsonCounter } from './verify-property';

/*
 * Property-based tests over the props of every public construct (fast-check). One test file, so that the total
 * number of generated cases is counted and printed once. Runs per property scale with FUZZ_RUNS
 * (`npm run fuzz` sets 20000); replay a failure with FUZZ_SEED=<seed printed by fast-check>.
 */

const started = Date.now();
/** The share of each construct property's cases that must synthesise at the CI default. */
const MIN_ACCEPTED_SHARE = 0.3;

describe('ingress', ingressProperties);
describe('mesh and policy', meshAndPolicyProperties);
describe('trust chain, resolver and explain', explainProperties);
describe('apps of several charts', appProperties);

afterAll(() => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const perProperty = [...caseCounter.entries()]
    .map(([k, v]) => constructProperties.has(k) ? `${k}=${v} (${acceptedCounter.get(k) ?? 0} synthesised and valid)` : `${k}=${v}`).join(', ');
  // eslint-disable-next-line no-console
  console.log(`property suite: ${totalCases()} generated cases (${constructCases()} of them construct cases, ${caseCounter.get(MANIFEST_SET_PROPERTY) ?? 0} explain manifest sets, ${caseCounter.get(MULTI_DOCUMENT_PROPERTY) ?? 0} explain multi-document files, slowest ${slowest.msPerObject.toFixed(1)} ms per object) in ${seconds}s (FUZZ_RUNS=${FUZZ_RUNS}): ${perProperty}`);
  // eslint-disable-next-line no-console
  console.log(`round trip (parse(synth) = the constructs' topology, no unraised explain error): ${roundTripCounter.apps} accepted cases, `
    + `${roundTripCounter.gateways} gateways, ${roundTripCounter.workloads} workloads, ${roundTripCounter.policies} policies compared`);
  // eslint-disable-next-line no-console
  console.log(`resolutions without hops against the traced hops: ${resolutionCounter.gateway} gateway and ${resolutionCounter.workload} workload requests agree`);
  expect(resolutionCounter.gateway).toBeGreaterThan(1000);
  expect(resolutionCounter.workload).toBeGreaterThan(1000);
  // eslint-disable-next-line no-console
  console.log(`policy fields against the trace: ${fieldCheckCounter.policies} policies that chose their field by topology, at ${fieldCheckCounter.hops} hops, `
    + `${fieldCheckCounter.sawClient} of them matching the client or caller`);
  // eslint-disable-next-line no-console
  console.log(`selectors: ${selectorScopeCounter.objects} AuthorizationPolicies, EnvoyFilters and Sidecars checked, ${selectorScopeCounter.scoped} of them scoped by targetRefs or an explicit namespace/mesh scope, none with an empty selector otherwise`);
  // eslint-disable-next-line no-console
  console.log(`verify (implied observations ok, each one changed a mismatch): ${verifyCounter.apps} accepted cases, ${verifyCounter.paths} HTTP paths, ${verifyCounter.observations} observations, ${verifyCounter.changed} changed, in ${(verifyCounter.ms / 1000).toFixed(1)}s`);
  expect(verifyCounter.changed).toBeGreaterThan(0);
  console.log(`verify: ${verifyJsonCounter.json} observations in the JSON access-log format, ${verifyJsonCounter.headers} with a client-address header`);
  expect(verifyJsonCounter.json).toBeGreaterThan(0);
  if (process.env.FUZZ_DEBUG) {
    // eslint-disable-next-line no-console
    console.log([...rejectionCounter.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v}\t${k}`).join('\n'));
  }
  // The CI default must generate at least 10,000 construct cases (checked here, after every property has counted its cases).
  if (FUZZ_RUNS === DEFAULT_FUZZ_RUNS && !process.argv.some(a => a === '-t' || a.startsWith('--testNamePattern'))) {
    expect(constructCases()).toBeGreaterThanOrEqual(MIN_CASES_PER_CI_RUN);
    // And at least 10,000 generated manifest sets through explain, besides the multi-document files.
    expect(caseCounter.get(MANIFEST_SET_PROPERTY) ?? 0).toBeGreaterThanOrEqual(MIN_CASES_PER_CI_RUN);
    expect(caseCounter.get(MULTI_DOCUMENT_PROPERTY) ?? 0).toBeGreaterThanOrEqual(DEFAULT_FUZZ_RUNS);
    // The selector check ran on the accepted cases (a count of 0 would mean it checked nothing).
    expect(selectorScopeCounter.objects).toBeGreaterThan(0);
    // The field check looked at policies, and saw the client at some of their hops.
    expect(fieldCheckCounter.sawClient).toBeGreaterThan(0);
    // At least 30% of each construct property's cases synthesise and feed the round trip (issue 24).
    const shares = [...constructProperties].map(k => ({ property: k, share: (acceptedCounter.get(k) ?? 0) / (caseCounter.get(k) ?? 1) }));
    expect(shares.filter(s => s.share < MIN_ACCEPTED_SHARE)).toEqual([]);
  }
});
