import * as fc from 'fast-check';
import { ClientAddressResolver } from '../../src/explain/client-address-resolver';

/*
 * Spoofing cases for the two CDN modes, at the proxy that resolves the client (the first sidecar behind the gateway,
 * since Envoy refuses detection extensions on a gateway's use_remote_address connection manager): a client that
 * reaches it directly, a forged client header, and forged X-Forwarded-For entries inside and outside the trusted
 * ranges. Each resolves to the attacker's real address or is rejected.
 */

const CLIENT = '203.0.113.10';
const ATTACKER = '203.0.113.66';
const CDN_EDGE = '198.51.100.1';
const CDN_INNER = '198.51.100.2';
const LB = '100.64.0.1';
const NODE = '10.0.0.4';
const GW_POD = '10.244.0.5';
const TRUSTED = ['198.51.100.0/24', '100.64.0.0/24', '10.0.0.0/16', '10.244.0.0/16'];

describe('trusted CIDRs at the sidecar (xff extension, use_remote_address false)', () => {
  const resolve = (xff: string | undefined, peer = GW_POD) =>
    ClientAddressResolver.resolve({
      useRemoteAddress: false, xffTrustedCidrs: TRUSTED, skipXffAppend: false, downstreamAddress: peer, xForwardedFor: xff,
    });

  test.each([
    ['one CDN tier', `${CLIENT},${CDN_EDGE},${NODE}`],
    ['two CDN tiers (the path varies)', `${CLIENT},${CDN_EDGE},${CDN_INNER},${NODE}`],
    ['the load balancer appended too', `${CLIENT},${CDN_EDGE},${CDN_INNER},${LB},${NODE}`],
  ])('an honest request through the CDN resolves to the client: %s', (_name, xff) => {
    // WHEN
    const result = resolve(xff);
    // THEN
    expect(result.trustedClientAddress).toBe(CLIENT);
    expect(result.externalAddress).toBeUndefined();
    expect(result.forwardedFor).toBe(`${xff},${GW_POD}`);
  });

  test('a forged entry outside the trusted ranges stays left of the real client', () => {
    expect(resolve(`192.0.2.66,${CLIENT},${CDN_EDGE},${NODE}`).trustedClientAddress).toBe(CLIENT);
  });

  test('a forged entry inside the trusted ranges is skipped only up to the real client', () => {
    // GIVEN the attacker claims to be a CDN edge, then a victim address
    const result = resolve(`192.0.2.66,${CDN_EDGE},${ATTACKER},${CDN_EDGE},${NODE}`);
    // THEN the walk stops at the first untrusted entry from the right: the attacker's real address
    expect(result.trustedClientAddress).toBe(ATTACKER);
  });

  test('a client that bypasses the CDN and reaches the load balancer resolves to its own address', () => {
    // GIVEN the attacker sends XFF with an address inside the CDN range and connects to the load balancer
    const result = resolve(`192.0.2.66,${CDN_EDGE},${ATTACKER},${NODE}`);
    // THEN
    expect(result.trustedClientAddress).toBe(ATTACKER);
  });

  test('a caller that is not a trusted proxy is the client, whatever its X-Forwarded-For says', () => {
    expect(resolve(`192.0.2.66,${CDN_EDGE}`, ATTACKER).trustedClientAddress).toBe(ATTACKER);
  });
});

describe('client header at the sidecar (custom_header extension)', () => {
  const resolve = (header: string | undefined, options: { rejectStatus?: number; xff?: string } = { rejectStatus: 403 }) =>
    ClientAddressResolver.resolve({
      useRemoteAddress: false,
      clientHeaderName: 'cf-connecting-ip',
      clientHeaderValue: header,
      rejectStatus: options.rejectStatus,
      downstreamAddress: GW_POD,
      xForwardedFor: options.xff,
    });

  test('the CDN header is the client; X-Forwarded-For passes unchanged and no X-Envoy-External-Address is set', () => {
    const result = resolve(CLIENT, { rejectStatus: 403, xff: `${CLIENT},${CDN_EDGE},${NODE}` });
    expect(result).toEqual({ trustedClientAddress: CLIENT, externalAddress: undefined, forwardedFor: `${CLIENT},${CDN_EDGE},${NODE}` });
  });

  test('a request without the header is rejected (fail closed)', () => {
    expect(resolve(undefined).rejectedWithStatus).toBe(403);
  });

  test.each([['a list', `192.0.2.66, ${CLIENT}`], ['a host name', 'evil.example'], ['an address with a port', `${CLIENT}:443`], ['empty', '']])(
    'a header that is not one address is rejected: %s', (_name, value) => {
      expect(resolve(value).rejectedWithStatus).toBe(403);
    });

  test('fail open: a request without the header gets the socket peer as client, never a forged XFF entry', () => {
    const result = resolve(undefined, { xff: '192.0.2.66' });
    expect(result.trustedClientAddress).toBe(GW_POD);
    expect(result.rejectedWithStatus).toBeUndefined();
  });

  test('a forged header is believed: only the gateway-side CdnOnlyPolicy stops a client that bypasses the CDN', () => {
    // This is why XffTrust.clientHeader() refuses to work without enforcedBy or onlyReachableThroughCdn.
    expect(resolve('192.0.2.66').trustedClientAddress).toBe('192.0.2.66');
  });

  test('fails when mixed with use_remote_address, trusted hops or trusted CIDRs', () => {
    const base = { clientHeaderName: 'cf-connecting-ip', downstreamAddress: GW_POD };
    expect(() => ClientAddressResolver.resolve({ ...base, useRemoteAddress: true })).toThrow(/not allowed with useRemoteAddress true/);
    expect(() => ClientAddressResolver.resolve({ ...base, useRemoteAddress: false, xffNumTrustedHops: 1 })).toThrow(/not allowed with xffNumTrustedHops/);
    expect(() => ClientAddressResolver.resolve({ ...base, useRemoteAddress: false, xffTrustedCidrs: ['10.0.0.0/8'] })).toThrow(/not allowed with xffTrustedCidrs/);
  });
});

describe('spoofing properties (any forged X-Forwarded-For, any forged header, any number of CDN tiers)', () => {
  /** Any IPv4 address, often inside the trusted ranges so forged entries look like proxies. */
  const address = fc.oneof(
    fc.integer({ min: 0, max: 255 }).map(b => `198.51.100.${b}`),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `192.0.${a}.${b}`),
    fc.constantFrom(LB, NODE, GW_POD, CLIENT, '10.0.9.9'),
  );
  const forgedXff = fc.array(address, { maxLength: 6 });
  const tiers = fc.integer({ min: 1, max: 3 });

  /** The X-Forwarded-For a request carries at the sidecar: the forged part, then each proxy appending its peer. */
  function throughCdn(forged: string[], client: string, cdnTiers: number): string {
    const edges = Array.from({ length: cdnTiers }, (_, i) => `198.51.100.${i + 1}`);
    // CDN tier 1 appends the client, each further tier the previous tier, the load balancer the last tier, the gateway a node.
    return [...forged, client, ...edges, NODE].join(',');
  }

  test('trusted CIDRs: through the CDN the sidecar resolves the client; around it, the attacker', () => {
    fc.assert(fc.property(forgedXff, tiers, (forged, cdnTiers) => {
      const resolve = (xff: string) => ClientAddressResolver.resolve({
        useRemoteAddress: false, xffTrustedCidrs: TRUSTED, skipXffAppend: false, downstreamAddress: GW_POD, xForwardedFor: xff,
      });
      expect(resolve(throughCdn(forged, CLIENT, cdnTiers)).trustedClientAddress).toBe(CLIENT);
      // Bypass: the attacker connects to the load balancer, which appends the attacker; the gateway appends a node.
      expect(resolve([...forged, ATTACKER, NODE].join(',')).trustedClientAddress).toBe(ATTACKER);
    }), { numRuns: 300 });
  });

  test('client header: X-Forwarded-For never matters; the header (which the CDN edge overwrites) is the client, and without it the request is rejected', () => {
    fc.assert(fc.property(forgedXff, tiers, (forged, cdnTiers) => {
      const honest = ClientAddressResolver.resolve({
        useRemoteAddress: false,
        clientHeaderName: 'cf-connecting-ip',
        clientHeaderValue: CLIENT,
        rejectStatus: 403,
        downstreamAddress: GW_POD,
        xForwardedFor: throughCdn(forged, CLIENT, cdnTiers),
      });
      expect(honest.trustedClientAddress).toBe(CLIENT);
      expect(honest.forwardedFor).toBe(throughCdn(forged, CLIENT, cdnTiers));
      const missing = ClientAddressResolver.resolve({
        useRemoteAddress: false,
        clientHeaderName: 'cf-connecting-ip',
        rejectStatus: 403,
        downstreamAddress: GW_POD,
        xForwardedFor: forged.join(',') || undefined,
      });
      expect(missing.rejectedWithStatus).toBe(403);
    }), { numRuns: 300 });
  });
});
