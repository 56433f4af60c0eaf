import { Explainer, FindingSeverity } from '../../src';

describe('explain: client addresses compared through header conditions', () => {
  test.each(['x-forwarded-for', 'X-Envoy-External-Address'])('warns on request.headers[%s] (exact strings, not CIDRs)', header => {
    // GIVEN a policy that tries to allow a network through a header condition
    const policy = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'office', namespace: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, action: 'ALLOW', rules: [{ when: [{ key: `request.headers[${header}]`, values: ['10.0.0.0/8'] }] }] },
    };
    // WHEN
    const findings = Explainer.fromManifests([policy]).allFindings();
    // THEN
    const found = findings.find(f => f.where === 'AuthorizationPolicy web/office')!;
    expect(found.severity).toBe(FindingSeverity.WARNING);
    expect(found.message).toContain(`request.headers[${header.toLowerCase()}]`);
    expect(found.message).toContain('istio/istio#54861');
    expect(found.fix).toMatch(/remoteIpBlocks/);
  });

  test('says nothing about other header conditions', () => {
    const policy = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'ua', namespace: 'web' },
      spec: { action: 'DENY', rules: [{ when: [{ key: 'request.headers[user-agent]', values: ['curl*'] }] }] },
    };
    expect(Explainer.fromManifests([policy]).allFindings().filter(f => f.where === 'AuthorizationPolicy web/ua')).toEqual([]);
  });
});
