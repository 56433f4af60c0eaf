import * as gatewayApi from '../../imports/gateway.networking.k8s.io';
import * as networking from '../../imports/networking.istio.io';
import * as security from '../../imports/security.istio.io';
import * as telemetry from '../../imports/telemetry.istio.io';
import { GATEWAY_API, NETWORKING, SECURITY, TELEMETRY } from '../../src/ingress/l1';

/*
 * src/ingress/l1.ts names the kinds the library renders without loading their generated modules: each entry must be
 * its L1 class's group, version and kind, or the manifests would carry a kind the types were not checked against.
 */
describe('the L1 kinds', () => {
  test.each([
    ['networking.istio.io', NETWORKING, networking],
    ['security.istio.io', SECURITY, security],
    ['gateway.networking.k8s.io', GATEWAY_API, gatewayApi],
    ['telemetry.istio.io', TELEMETRY, telemetry],
  ])('every %s entry is its L1 class\'s GVK', (_group, table, module) => {
    // GIVEN the table and the generated module
    const entries = Object.entries(table);
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, kind] of entries) {
      // WHEN the class of that name is looked up
      const l1 = (module as unknown as Record<string, { GVK?: unknown }>)[name];
      // THEN it exists and its GVK is the entry's
      expect(l1?.GVK).toEqual(kind.GVK);
    }
  });
});
