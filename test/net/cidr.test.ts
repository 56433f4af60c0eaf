import { addressInCidr, cidrContains, cidrsOverlap, isIpAddress, parseCidr, parseCidrs } from '../../src/net/cidr';

describe('parseCidr', () => {
  test.each([
    ['10.0.0.0/8', '10.0.0.0/8', 4, 8],
    ['203.0.113.7', '203.0.113.7/32', 4, 32],
    ['0.0.0.0/0', '0.0.0.0/0', 4, 0],
    ['255.255.255.255/32', '255.255.255.255/32', 4, 32],
    ['2001:db8::/32', '2001:db8::/32', 6, 32],
    ['2001:DB8:0:0::/32', '2001:db8::/32', 6, 32],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128', 6, 128],
    ['::1', '::1/128', 6, 128],
    ['::/0', '::/0', 6, 0],
    ['::ffff:10.0.0.1', '10.0.0.1/32', 4, 32],
    ['::ffff:7f00:1', '127.0.0.1/32', 4, 32],
    ['::ffff:10.0.0.0/120', '10.0.0.0/24', 4, 24],
    ['::ffff:0:0/96', '0.0.0.0/0', 4, 0],
    ['  198.51.100.0/24 ', '198.51.100.0/24', 4, 24],
  ])('normalises %j to %s', (input, text, family, prefixLength) => {
    // WHEN
    const cidr = parseCidr(input);
    // THEN
    expect(cidr).toEqual({ text, address: text.split('/')[0], prefixLength, family });
  });

  test('keeps an IPv4-mapped prefix shorter than /96 as IPv6', () => {
    expect(parseCidr('::fffe:0:0/95').text).toBe('::fffe:0:0/95');
  });

  test.each([
    ['2.2.2.2/24', /host bits set.*did you mean "2\.2\.2\.0\/24"\? \(or "2\.2\.2\.2\/32" for the single address\)/],
    ['123.120.234.15/24', /did you mean "123\.120\.234\.0\/24"/],
    ['2001:db8::1/32', /did you mean "2001:db8::\/32"\? \(or "2001:db8::1\/128"/],
    ['::ffff:10.0.0.1/120', /did you mean "10\.0\.0\.0\/24"\? \(or "10\.0\.0\.1\/32"/],
  ])('fails %j with host bits set and a suggestion', (input, message) => {
    expect(() => parseCidr(input, 'cidrs[0]')).toThrow(message);
  });

  test.each([
    ['', /cidrs\[2\]: "" is empty/],
    ['   ', /is empty/],
    ['abc', /"abc" is not an IPv4 or IPv6 address or CIDR; use forms such as/],
    ['1.2.3.4.5', /is not an IPv4 or IPv6 address/],
    ['[::1]', /is not an IPv4 or IPv6 address/],
    ['010.1.1.1', /not a four-part decimal IPv4 address \(leading zeros/],
    ['1.2.3', /not a four-part decimal/],
    ['0x0a.0.0.1', /not a four-part decimal/],
    ['10.0.0.1/33', /invalid prefix length "\/33"; use a whole number from 0 to 32/],
    ['2001:db8::/129', /invalid prefix length "\/129"; use a whole number from 0 to 128/],
    ['10.0.0.0/08', /invalid prefix length "\/08"/],
    ['10.0.0.0/', /invalid prefix length "\/"/],
    ['10.0.0.0/-1', /invalid prefix length "\/-1"/],
    ['10.0.0.0/8/8', /invalid prefix length/],
    ['fe80::1%eth0', /IPv6 zone.*remove "%eth0"/],
    ['fe80::%eth0/64', /IPv6 zone/],
  ])('fails %j', (input, message) => {
    expect(() => parseCidr(input, 'cidrs[2]')).toThrow(message);
  });

  test('fails a non-string entry', () => {
    expect(() => parseCidr(10 as any, 'cidrs[0]')).toThrow(/cidrs\[0\]: "10" is not a string/);
    expect(() => parseCidr(undefined as any)).toThrow(/^cidr: "undefined" is not a string/);
  });

  test('round-trips its own output', () => {
    for (const text of ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1/32', '::/0']) {
      expect(parseCidr(parseCidr(text).text).text).toBe(text);
    }
  });
});

describe('parseCidrs', () => {
  test('parses a list in order', () => {
    expect(parseCidrs(['10.0.0.0/8', '::1'], 'cidrs').map(c => c.text)).toEqual(['10.0.0.0/8', '::1/128']);
  });

  test('fails naming the index of the bad entry', () => {
    expect(() => parseCidrs(['10.0.0.0/8', '10.0.0.0/8', 'bad'], 'cidrs')).toThrow(/^cidrs\[2\]: "bad"/);
  });

  test('fails something that is not a list', () => {
    expect(() => parseCidrs('10.0.0.0/8' as any, 'cidrs')).toThrow(/cidrs: expected a list of addresses or CIDRs/);
  });
});

describe('cidrContains and cidrsOverlap', () => {
  const c = (t: string) => parseCidr(t);

  test('contains narrower blocks of the same family only', () => {
    expect(cidrContains(c('10.0.0.0/8'), c('10.2.0.0/16'))).toBe(true);
    expect(cidrContains(c('10.0.0.0/8'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrContains(c('10.2.0.0/16'), c('10.0.0.0/8'))).toBe(false);
    expect(cidrContains(c('10.0.0.0/8'), c('11.0.0.0/8'))).toBe(false);
    expect(cidrContains(c('0.0.0.0/0'), c('::/0'))).toBe(false);
    expect(cidrContains(c('::/0'), c('2001:db8::1'))).toBe(true);
    expect(cidrContains(c('0.0.0.0/0'), c('::ffff:192.0.2.1'))).toBe(true);
  });

  test('overlap is symmetric', () => {
    expect(cidrsOverlap(c('10.2.0.0/16'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(c('10.0.0.0/8'), c('10.2.0.0/16'))).toBe(true);
    expect(cidrsOverlap(c('10.0.0.0/16'), c('10.1.0.0/16'))).toBe(false);
  });
});

describe('addressInCidr and isIpAddress', () => {
  test('matches single addresses, including IPv4-mapped IPv6', () => {
    expect(addressInCidr('10.1.1.1', parseCidr('10.0.0.0/8'))).toBe(true);
    expect(addressInCidr('::ffff:10.1.1.1', parseCidr('10.0.0.0/8'))).toBe(true);
    expect(addressInCidr('11.1.1.1', parseCidr('10.0.0.0/8'))).toBe(false);
    expect(addressInCidr('2001:db8::5', parseCidr('10.0.0.0/8'))).toBe(false);
    expect(addressInCidr('not-an-ip', parseCidr('10.0.0.0/8'))).toBe(false);
  });

  test('accepts only four-part IPv4 and valid IPv6', () => {
    expect(isIpAddress('127.0.0.6')).toBe(true);
    expect(isIpAddress('::1')).toBe(true);
    expect(isIpAddress('1.2.3')).toBe(false);
    expect(isIpAddress('10.0.0.0/8')).toBe(false);
    expect(isIpAddress(undefined as any)).toBe(false);
  });
});

describe('the IPv4 fast path agrees with ipaddr.js', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fc: typeof import('fast-check') = require('fast-check');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ipaddr: typeof import('ipaddr.js') = require('ipaddr.js');
  const octet = fc.integer({ min: 0, max: 255 });
  const address = fc.tuple(octet, octet, octet, octet).map(o => o.join('.'));

  test('parsing, containment and membership, against ipaddr.js as the reference', () => {
    fc.assert(fc.property(address, fc.integer({ min: 0, max: 32 }), address, fc.integer({ min: 0, max: 32 }), (a, prefix, b, other) => {
      // GIVEN a block written with host bits possibly set, read as ipaddr.js reads it
      const [network, length] = ipaddr.IPv4.parseCIDR(`${a}/${prefix}`);
      const masked = ipaddr.IPv4.networkAddressFromCIDR(`${a}/${prefix}`).toString();
      // WHEN the library reads it
      const read = (() => { try { return parseCidr(`${a}/${prefix}`); } catch (e) { return (e as Error).message; } })();
      // THEN it is the masked block, or the host-bits error exactly when ipaddr.js's network differs from the address
      if (masked === network.toString()) expect(read).toEqual({ text: `${masked}/${length}`, address: masked, prefixLength: length, family: 4 });
      else expect(read).toContain(`did you mean "${masked}/${length}"`);
      // and membership and containment are ipaddr.js's match
      const block = parseCidr(`${masked}/${length}`);
      expect(addressInCidr(b, block)).toBe(ipaddr.IPv4.parse(b).match(ipaddr.IPv4.parse(masked), length));
      const inner = parseCidr(`${ipaddr.IPv4.networkAddressFromCIDR(`${b}/${other}`).toString()}/${other}`);
      const expected = length <= other && ipaddr.IPv4.parse(inner.address).match(ipaddr.IPv4.parse(masked), length);
      expect(cidrContains(block, inner)).toBe(expected);
    }), { numRuns: 2000 });
  });

  test('isIpAddress, against ipaddr.js as the reference', () => {
    // GIVEN four-part texts, in range or not, with or without leading zeros, and other strings
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.integer({ min: 0, max: 99 }).map(n => `0${n}`), fc.string({ maxLength: 3 }));
    const text = fc.oneof(fc.tuple(part, part, part, part).map(p => p.join('.')), address, fc.string({ maxLength: 12 }));
    fc.assert(fc.property(text, t => {
      // THEN the library says what ipaddr.js's four-part decimal and IPv6 checks say
      expect(isIpAddress(t)).toBe(ipaddr.IPv4.isValidFourPartDecimal(t) || ipaddr.IPv6.isValid(t));
    }), { numRuns: 3000 });
  });

  test.each(['010.0.0.1', '1.2.3', '256.0.0.1', '1.2.3.4/33', '1.2.3.4/08', '0x7f.0.0.1'])('fails %s as before (the slow path)', entry => {
    expect(() => parseCidr(entry)).toThrow();
  });
});
