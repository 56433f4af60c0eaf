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
