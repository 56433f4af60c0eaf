import * as fs from 'fs';
import * as path from 'path';
import { Declared, disagreements, notCompared, readReports } from './compare';
import { FIXTURES_DIR, ISTIO_OUT_DIR } from './fixtures';
import { predict } from './model-prediction';
import { parseYamlDocuments } from '../../src/explain/manifest-parser';

/*
 * The library's model against istiod, proxy by proxy: needs the Go run's output (.ci/conformance.sh). Without it
 * this file reports itself SKIPPED, unless CONFORMANCE_REQUIRED=1 (CI), where a missing output fails.
 */

const required = process.env.CONFORMANCE_REQUIRED === '1';
const sets = fs.existsSync(ISTIO_OUT_DIR) && fs.existsSync(FIXTURES_DIR)
  ? fs.readdirSync(FIXTURES_DIR).filter(s => fs.existsSync(path.join(ISTIO_OUT_DIR, s, 'result.json'))).sort()
  : [];

if (sets.length === 0 && !required) {
  process.stderr.write(`SKIPPED: model vs istiod comparison (no Go conformance output in ${ISTIO_OUT_DIR}; run .ci/conformance.sh)\n`);
  test.skip('the library model agrees with istiod (SKIPPED: no Go conformance output)', () => undefined);
} else {
  describe('the library model agrees with istiod', () => {
    test('the Go run checked every object set', () => {
      // GIVEN the object sets WHEN the Go run has finished THEN each one has its result
      expect(sets.length).toBeGreaterThan(0);
      expect(sets).toEqual(fs.readdirSync(FIXTURES_DIR).sort());
    });

    if (sets.length > 0) {
      test.each(sets)('%s', set => {
        // GIVEN the set's manifests and what istiod generated for each proxy
        const manifests = parseYamlDocuments(fs.readFileSync(path.join(FIXTURES_DIR, set, 'objects.yaml'), 'utf8'), set);
        const declared: Declared = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, set, 'declared.json'), 'utf8'));
        const reports = readReports(path.join(ISTIO_OUT_DIR, set));
        // WHEN the model predicts the same proxies THEN there is no disagreement
        const prediction = predict(manifests);
        expect(disagreements(prediction, reports, declared)).toEqual([]);
        // AND what is not compared is said, proxy by proxy: only Gateway API gateways, each checked against the
        // scenario's expectation instead (declared.gatewayApi)
        const skipped = notCompared(prediction, reports);
        for (const line of skipped) process.stderr.write(`NOT COMPARED: ${set}: ${line}\n`);
        const gatewayApiProxies = reports.filter(r => r.gatewayApi).map(r => `${r.proxy.namespace}/${r.proxy.name}:`);
        expect(skipped.filter(line => !gatewayApiProxies.some(p => line.startsWith(p)))).toEqual([]);
      });
    }
  });
}
