import * as fs from 'fs';
import * as path from 'path';
import { exampleSets, FIXTURES_DIR, SCENARIO_NAMES, scenarioSets, writeSets } from './fixtures';
import { parseYamlDocuments } from '../../src/explain/manifest-parser';

/*
 * The object sets for the Istio conformance run. `.ci/conformance.sh` runs this file with
 * CONFORMANCE_WRITE_FIXTURES=1 after `npm run example`, which writes them to conformance/out/fixtures.
 */

const DIST = path.join(__dirname, '..', '..', 'examples', 'seed-scenarios', 'dist');
const write = process.env.CONFORMANCE_WRITE_FIXTURES === '1';

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
    if (write) {
      const examples = exampleSets(DIST, parseYamlDocuments);
      expect(examples.length).toBeGreaterThan(20);
      writeSets([...examples, ...sets], FIXTURES_DIR);
      expect(fs.readdirSync(FIXTURES_DIR)).toHaveLength(examples.length + sets.length);
    }
  });

  test('every chart of the example app is a set', () => {
    if (!fs.existsSync(DIST)) {
      if (write) throw new Error(`${DIST} is missing: run npm run example first`);
      process.stderr.write('SKIPPED: example app sets (run `npm run example` to synthesise examples/seed-scenarios/dist)\n');
      return;
    }
    // GIVEN the example app's output WHEN read as sets THEN every chart is one, with its declared policies
    const sets = exampleSets(DIST, parseYamlDocuments);
    expect(sets.length).toBe(fs.readdirSync(DIST).filter(f => f.endsWith('.k8s.yaml')).length);
    expect(sets.find(s => s.name === 'example-policy-block-source-ip')?.declaredPolicies).toEqual([
      expect.objectContaining({ action: 'DENY', field: 'remoteIpBlocks', cidrs: ['2.2.2.0/24'] }),
    ]);
  });
});
