import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import {
  CONFORMANCE_PIN, exampleSets, exampleSetsFor, FIXTURES_DIR, GATEWAY_API_SCENARIO_NAMES, gatewayApiSets, SCENARIO_NAMES, scenarioSets,
  WHOLE_EXAMPLE_SET, writeSets,
} from './fixtures';
import { PROPERTY_SAMPLE_SIZE, propertySampleSets } from './property-sets';
import { buildApp } from '../../examples/seed-scenarios/main';
import { parseYamlDocuments } from '../../src/explain/manifest-parser';

/*
 * The object sets for the Istio conformance run. `.ci/conformance.sh` runs this file with
 * CONFORMANCE_WRITE_FIXTURES=1 after `npm run example`, which writes them to conformance/out/fixtures.
 */

const DIST = path.join(__dirname, '..', '..', 'examples', 'seed-scenarios', 'dist');
const write = process.env.CONFORMANCE_WRITE_FIXTURES === '1';

/** Synthesises the example app (examples/seed-scenarios/main.ts, as `npm run example` does) into a temporary folder. */
function synthesiseExample(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-scenarios-'));
  buildApp(new App({ outdir })).synth();
  return outdir;
}

describe('conformance object sets', () => {
  test('every scenario synthesises and passes the harness', () => {
    // GIVEN the scenarios WHEN synthesised through synthAndValidate (throws on any schema error)
    const sets = scenarioSets();
    // THEN there is one set per scenario, each with a proxy and the declared policies of its constructs
    expect(sets.map(s => s.name)).toEqual(SCENARIO_NAMES.map(n => `scenario-${n}`));
    for (const set of sets) {
      expect(set.manifests.some(m => ['Deployment', 'Gateway'].includes(m.kind))).toBe(true);
    }
    expect(sets.flatMap(s => s.declaredPolicies).map(p => `${p.action} ${p.field} ${p.negated}`).sort())
      .toEqual(expect.arrayContaining(['ALLOW ipBlocks false', 'ALLOW remoteIpBlocks false', 'DENY ipBlocks false', 'DENY remoteIpBlocks false', 'DENY remoteIpBlocks true']));
    if (write && CONFORMANCE_PIN) {
      // The sets of an older istiod pin (conformance/istio-<pin>): everything made for that release.
      const examples = exampleSetsFor(CONFORMANCE_PIN);
      expect(examples.length).toBeGreaterThan(20);
      const pinned = scenarioSets(CONFORMANCE_PIN);
      const gatewayApi = gatewayApiSets(CONFORMANCE_PIN);
      const sample = propertySampleSets(CONFORMANCE_PIN);
      writeSets([...examples, ...pinned, ...gatewayApi, ...sample], FIXTURES_DIR);
      expect(fs.readdirSync(FIXTURES_DIR)).toHaveLength(examples.length + pinned.length + gatewayApi.length + sample.length);
    } else if (write) {
      const examples = exampleSets(DIST, parseYamlDocuments);
      expect(examples.length).toBeGreaterThan(20);
      const gatewayApi = gatewayApiSets();
      const sample = propertySampleSets();
      writeSets([...examples, ...sets, ...gatewayApi, ...sample], FIXTURES_DIR);
      expect(fs.readdirSync(FIXTURES_DIR)).toHaveLength(examples.length + sets.length + gatewayApi.length + sample.length);
    }
  });

  test('every Gateway API scenario synthesises and passes the harness', () => {
    // GIVEN the Gateway API scenarios WHEN synthesised through synthAndValidate (Gateway API and Istio CRDs)
    const sets = gatewayApiSets();
    // THEN each holds Gateways of class istio with a parametersRef ConfigMap, and says what istiod must make of them
    expect(sets.map(s => s.name)).toEqual(GATEWAY_API_SCENARIO_NAMES.map(n => `scenario-${n}`));
    for (const set of sets) {
      const gateways = set.manifests.filter(m => m.apiVersion === 'gateway.networking.k8s.io/v1' && m.kind === 'Gateway');
      expect(gateways.map(g => g.spec.gatewayClassName)).toEqual(set.gatewayApi!.map(() => 'istio'));
      for (const g of gateways) {
        const ref = g.spec.infrastructure.parametersRef;
        expect(set.manifests.find(m => m.kind === 'ConfigMap' && m.metadata.name === ref.name)?.data.service).toContain('externalTrafficPolicy: Local');
      }
    }
    expect(sets.flatMap(s => s.gatewayApi!).map(g => `${g.gateway} ${g.externalTrafficPolicy} hops=${g.trustedHops} proxy=${g.proxyProtocol} [${g.rbac}]`)).toEqual([
      'web Local hops=2 proxy=none [ALLOW remote_ip 198.51.100.0/24,ALLOW remote_ip 2001:db8::/32,DENY direct_remote_ip 192.0.2.0/24]',
      'tcp Local hops=0 proxy=strict [DENY direct_remote_ip 203.0.113.0/24]',
    ]);
    // AND the policies attach with targetRefs to the Gateway, not with a selector
    const policies = sets.flatMap(s => s.manifests).filter(m => m.kind === 'AuthorizationPolicy');
    expect(policies.map(p => `${p.spec.action} ${p.spec.targetRefs[0].kind}/${p.spec.targetRefs[0].name} ${p.spec.selector}`))
      .toEqual(['ALLOW Gateway/web undefined', 'DENY Gateway/web undefined', 'DENY Gateway/tcp undefined']);
  });

  test('every chart of the example app is a set', () => {
    // GIVEN the example app's output: examples/seed-scenarios/dist when `npm run example` wrote it (the conformance
    // stage), else synthesised here into a temporary folder (`npm test` runs before `npm run example` in .ci/run), so
    // that the test always has the output to check and never passes without it
    if (write && !fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run example first`);
    const dist = fs.existsSync(DIST) ? DIST : synthesiseExample();
    const files = fs.readdirSync(dist).filter(f => f.endsWith('.k8s.yaml'));
    expect(files.length).toBeGreaterThan(20);
    // WHEN read as sets THEN every chart is one, with its declared policies
    const sets = exampleSets(dist, parseYamlDocuments);
    expect(sets.length).toBe(files.length + 1);
    // AND the whole app is one more set, of the charts whose objects no other chart also writes
    const whole = sets.find(s => s.name === WHOLE_EXAMPLE_SET)!;
    expect(whole.manifests.length).toBeGreaterThan(sets.find(s => s.name === 'example-policy-block-source-ip')!.manifests.length);
    expect(sets.find(s => s.name === 'example-policy-block-source-ip')?.declaredPolicies).toEqual([
      expect.objectContaining({ action: 'DENY', field: 'remoteIpBlocks', cidrs: ['2.2.2.0/24'] }),
    ]);
    if (dist !== DIST) fs.rmSync(dist, { recursive: true, force: true });
  });

  test('a sample of the property suite\'s accepted apps becomes object sets with the trace\'s expectations', () => {
    // GIVEN the fixed-seed sample WHEN made into sets
    const sample = propertySampleSets();
    // THEN every sampled app is there (one set per cluster), each with a proxy the trace expects
    const apps = new Set(sample.map(s => s.name.split('-').slice(0, 2).join('-')));
    expect(apps.size).toBe(PROPERTY_SAMPLE_SIZE);
    for (const set of sample) expect(set.expectations.proxies.length).toBeGreaterThan(0);
  });
});
