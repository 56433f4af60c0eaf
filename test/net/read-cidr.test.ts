import { parseCidr, readCidr } from '../../src/net/cidr';

describe('readCidr', () => {
  test.each([
    ['203.0.113.1/24', '203.0.113.0/24'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['::ffff:10.0.0.1/120', '10.0.0.0/24'],
  ])('masks host bits of %j to %s and says so', (entry, masked) => {
    // WHEN
    const read = readCidr(entry, 'ipBlocks');
    // THEN
    expect(read).toEqual({ cidr: expect.objectContaining({ text: masked }), hostBitsSet: true });
    expect(() => parseCidr(entry)).toThrow(`did you mean "${masked}"?`);
  });

  test.each(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32'])('reads %j without host bits as parseCidr does', entry => {
    // WHEN
    const read = readCidr(entry);
    // THEN
    expect(read).toEqual({ cidr: parseCidr(entry), hostBitsSet: false });
  });

  test.each(['010.0.0.1', '10.0.0.0/33', 'fe80::1%eth0', ''])('gives the error parseCidr throws for %j, never throwing', entry => {
    // WHEN
    const read = readCidr(entry, 'ipBlocks');
    // THEN
    expect(read.cidr).toBeUndefined();
    expect(read.hostBitsSet).toBe(false);
    expect(() => parseCidr(entry, 'ipBlocks')).toThrow(read.error!);
  });
});
