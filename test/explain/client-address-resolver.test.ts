import { ClientAddressResolver } from '../../src/explain/client-address-resolver';
import { resolveClientAddress } from '../../src/trace/xff-rule';

const CLIENT = '203.0.113.10';
const SPOOF = '192.0.2.66';
const LB = '198.51.100.20';
const CDN = '198.51.100.30';
const NODE = '10.0.0.4';
const GW_POD = '10.244.1.7';

describe('trustedEntryPosition (envoyproxy/envoy#34241)', () => {
  test.each([
    [true, 0, 0], [true, 1, 1], [true, 2, 2],
    [false, 0, 1], [false, 1, 2], [false, 2, 3],
  ])('useRemoteAddress %s, %d hops -> entry %d from the right', (ura, hops, position) => {
    expect(ClientAddressResolver.trustedEntryPosition(ura, hops)).toBe(position);
  });

  test('extension hops that match an HCM with use_remote_address are one fewer', () => {
    expect(ClientAddressResolver.extensionHopsForRemoteAddressHops(1)).toBe(0);
    expect(ClientAddressResolver.extensionHopsForRemoteAddressHops(3)).toBe(2);
  });

  test('the converted extension hop count picks the same entry as the HCM, for every header length', () => {
    for (let n = 1; n <= 4; n++) {
      for (let len = 0; len <= 6; len++) {
        const xff = Array.from({ length: len }, (_, i) => `198.51.100.${i + 1}`).join(',');
        const hcm = resolveClientAddress({ useRemoteAddress: true, xffNumTrustedHops: n, downstreamAddress: NODE, xForwardedFor: xff });
        const extensionHops = ClientAddressResolver.extensionHopsForRemoteAddressHops(n);
        const ext = resolveClientAddress({ useRemoteAddress: false, xffNumTrustedHops: extensionHops, downstreamAddress: NODE, xForwardedFor: xff });
        expect(ext.trustedClientAddress).toBe(hcm.trustedClientAddress);
      }
    }
  });

  test('fails for 0 hops, which the extension cannot express', () => {
    expect(() => ClientAddressResolver.extensionHopsForRemoteAddressHops(0)).toThrow(/hcmNumTrustedHops 0 is not allowed/);
  });
});

describe('gateway (use_remote_address true)', () => {
  test('0 trusted hops: the socket peer, whatever the client put in XFF', () => {
    // GIVEN a client that sends its own XFF straight to the gateway
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, downstreamAddress: CLIENT, xForwardedFor: SPOOF });
    // THEN
    expect(r).toEqual({ trustedClientAddress: CLIENT, externalAddress: CLIENT, forwardedFor: `${SPOOF},${CLIENT}` });
  });

  test('1 trusted hop behind an L7 LB: the rightmost entry', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 1, downstreamAddress: LB, xForwardedFor: `${SPOOF}, ${CLIENT}` });
    expect(r.trustedClientAddress).toBe(CLIENT);
    expect(r.externalAddress).toBe(CLIENT);
    expect(r.forwardedFor).toBe(`${SPOOF},${CLIENT},${LB}`);
  });

  test('2 trusted hops: the second entry from the right', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 2, downstreamAddress: NODE, xForwardedFor: `${SPOOF},${CLIENT},${CDN}` });
    expect(r.trustedClientAddress).toBe(CLIENT);
  });

  test('too few entries: falls back to the socket peer', () => {
    const r = resolveClientAddress({ useRemoteAddress: true, xffNumTrustedHops: 2, downstreamAddress: NODE, xForwardedFor: CLIENT });
    expect(r.trustedClientAddress).toBe(NODE);
    expect(r.fellBack).toBe(true);
    expect(r.fallbackReason).toMatch(/1 entry, fewer than the 2 needed/);
  });

  test('no XFF with trusted hops: the socket peer', () => {
    const r = resolveClientAddress({ useRemoteAddress: true, xffNumTrustedHops: 1, downstreamAddress: NODE });
    expect(r.trustedClientAddress).toBe(NODE);
    expect(r.forwardedFor).toBe(NODE);
    expect(r.fallbackReason).toBe('no X-Forwarded-For');
  });

  test('skipXffAppend true: XFF is passed on unchanged', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, skipXffAppend: true, downstreamAddress: CLIENT, xForwardedFor: SPOOF });
    expect(r.forwardedFor).toBe(SPOOF);
    expect(ClientAddressResolver.resolve({ useRemoteAddress: true, skipXffAppend: true, downstreamAddress: CLIENT }).forwardedFor).toBeUndefined();
  });

  test('empty entries are dropped and whitespace trimmed', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 2, downstreamAddress: NODE, xForwardedFor: ` ${CLIENT} ,, ${CDN} ` });
    expect(r.trustedClientAddress).toBe(CLIENT);
    expect(r.forwardedFor).toBe(`${CLIENT},${CDN},${NODE}`);
  });

  test.each([
    ['unknown'], [`${CLIENT}:443`], ['[2001:db8::10]'], ['010.1.2.3'], ['203.0.113'],
  ])('malformed trusted entry %s: falls back to the socket peer', (bad) => {
    const r = resolveClientAddress({ useRemoteAddress: true, xffNumTrustedHops: 1, downstreamAddress: LB, xForwardedFor: `${CLIENT},${bad}` });
    expect(r.trustedClientAddress).toBe(LB);
    expect(r.fallbackReason).toMatch(/is not an IP address/);
  });

  test('a malformed entry left of the trusted one does not matter', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 1, downstreamAddress: LB, xForwardedFor: `garbage,${CLIENT}` });
    expect(r.trustedClientAddress).toBe(CLIENT);
  });

  test('IPv6 entries and peer', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 1, downstreamAddress: '2001:db8:ffff::1', xForwardedFor: '2001:db8::bad, 2001:db8::10' });
    expect(r.trustedClientAddress).toBe('2001:db8::10');
    expect(r.forwardedFor).toBe('2001:db8::bad,2001:db8::10,2001:db8:ffff::1');
  });
});

describe('sidecar (use_remote_address false)', () => {
  test('default: the rightmost entry, which the gateway appended; nothing appended, no external address', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: false, downstreamAddress: GW_POD, xForwardedFor: `${CLIENT},${NODE}` });
    expect(r).toEqual({ trustedClientAddress: NODE, externalAddress: undefined, forwardedFor: `${CLIENT},${NODE}` });
  });

  test('no XFF: the socket peer', () => {
    expect(ClientAddressResolver.resolve({ useRemoteAddress: false, downstreamAddress: GW_POD }).trustedClientAddress).toBe(GW_POD);
  });

  test('the same hop count as the gateway picks the gateway\'s client, because the gateway appended one entry', () => {
    // GIVEN a gateway with 2 trusted hops
    const gw = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: 2, downstreamAddress: NODE, xForwardedFor: `${SPOOF},${CLIENT},${CDN}` });
    // WHEN the sidecar uses xff_num_trusted_hops 2 too
    const sc = ClientAddressResolver.resolve({
      useRemoteAddress: false, xffNumTrustedHops: 2, downstreamAddress: GW_POD, xForwardedFor: gw.forwardedFor,
    });
    // THEN
    expect(sc.trustedClientAddress).toBe(gw.trustedClientAddress);
    expect(sc.trustedClientAddress).toBe(CLIENT);
  });

  test('hops with too few entries fall back to the peer', () => {
    const r = ClientAddressResolver.resolve({ useRemoteAddress: false, xffNumTrustedHops: 1, downstreamAddress: GW_POD, xForwardedFor: CLIENT });
    expect(r.trustedClientAddress).toBe(GW_POD);
  });

  test('skipXffAppend false (the xff extension) appends the peer; unset does not', () => {
    expect(ClientAddressResolver.resolve({ useRemoteAddress: false, skipXffAppend: false, downstreamAddress: GW_POD, xForwardedFor: CLIENT }).forwardedFor).toBe(`${CLIENT},${GW_POD}`);
    expect(ClientAddressResolver.resolve({ useRemoteAddress: false, downstreamAddress: GW_POD, xForwardedFor: CLIENT }).forwardedFor).toBe(CLIENT);
  });
});

describe('xff extension with xff_trusted_cidrs', () => {
  const cidrs = ['10.0.0.0/8', '198.51.100.0/24', 'fc00::/7'];
  const resolve = (peer: string, xff?: string) =>
    resolveClientAddress({ useRemoteAddress: false, xffTrustedCidrs: cidrs, downstreamAddress: peer, xForwardedFor: xff });

  test('an untrusted peer is the client, whatever XFF says', () => {
    expect(resolve(CLIENT, `${SPOOF}`).trustedClientAddress).toBe(CLIENT);
  });

  test('trusted peer, untrusted rightmost entry: the rightmost entry', () => {
    expect(resolve(GW_POD, `${SPOOF},${CLIENT}`).trustedClientAddress).toBe(CLIENT);
  });

  test('trusted peer and trusted rightmost entries: the first untrusted from the right', () => {
    expect(resolve(GW_POD, `${SPOOF},${CLIENT},${CDN},${NODE}`).trustedClientAddress).toBe(CLIENT);
    expect(resolve(GW_POD, `${CLIENT},${NODE}`).trustedClientAddress).toBe(CLIENT);
  });

  test('every entry trusted: the leftmost', () => {
    expect(resolve(GW_POD, `${CDN},10.1.2.3,${NODE}`).trustedClientAddress).toBe(CDN);
  });

  test('no XFF: the peer', () => {
    expect(resolve(GW_POD).trustedClientAddress).toBe(GW_POD);
  });

  test('a malformed entry reached on the walk: the peer', () => {
    const r = resolve(GW_POD, `${CLIENT},bogus,${NODE}`);
    expect(r.trustedClientAddress).toBe(GW_POD);
    expect(r.fallbackReason).toMatch(/"bogus" is not an IP address/);
  });

  test('IPv6 trusted ranges', () => {
    expect(resolve('fd00::7', '2001:db8::10, fd00::1').trustedClientAddress).toBe('2001:db8::10');
  });

  test('sets no external address and does not append unless skipXffAppend is false', () => {
    const r = resolve(GW_POD, CLIENT);
    expect(r.externalAddress).toBeUndefined();
    expect(r.forwardedFor).toBe(CLIENT);
  });
});

describe('input errors', () => {
  test('fails on a downstream address that is not an IP', () => {
    expect(() => ClientAddressResolver.resolve({ useRemoteAddress: true, downstreamAddress: 'node-1' })).toThrow(/downstreamAddress "node-1" is not an IP address/);
  });
  test('fails on a negative hop count', () => {
    expect(() => ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: -1, downstreamAddress: NODE })).toThrow(/xffNumTrustedHops -1 is not allowed/);
  });
  test('fails on trusted CIDRs with use_remote_address', () => {
    expect(() => ClientAddressResolver.resolve({ useRemoteAddress: true, xffTrustedCidrs: ['10.0.0.0/8'], downstreamAddress: NODE })).toThrow(/xffTrustedCidrs is not allowed with useRemoteAddress true/);
  });
  test('fails on trusted CIDRs with hops', () => {
    expect(() => ClientAddressResolver.resolve({ useRemoteAddress: false, xffNumTrustedHops: 1, xffTrustedCidrs: ['10.0.0.0/8'], downstreamAddress: NODE })).toThrow(/xffNumTrustedHops 1 is not allowed with xffTrustedCidrs/);
  });
  test('fails on a bad trusted CIDR', () => {
    expect(() => ClientAddressResolver.resolve({ useRemoteAddress: false, xffTrustedCidrs: ['10.0.0.1/8'], downstreamAddress: NODE })).toThrow(/xffTrustedCidrs\[0\]: "10.0.0.1\/8" has host bits set/);
  });
});
