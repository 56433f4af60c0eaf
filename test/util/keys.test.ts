import * as fc from 'fast-check';
import { entryOf, tupleKey } from '../../src/util/keys';

describe('tupleKey', () => {
  test('two different tuples never share a key (property)', () => {
    // GIVEN two tuples of strings made of the characters a separator or length prefix would use
    const part = fc.string({ unit: fc.constantFrom('a', ':', '1', '2', '\u0000', '/', '='), maxLength: 6 });
    fc.assert(fc.property(fc.array(part, { maxLength: 4 }), fc.array(part, { maxLength: 4 }), (a, b) => {
      // WHEN each gets its key
      // THEN the keys are equal exactly when the tuples are
      expect(tupleKey(...a) === tupleKey(...b)).toBe(a.length === b.length && a.every((x, i) => x === b[i]));
    }), { numRuns: 2000 });
  });

  test('shifting characters between parts changes the key', () => {
    // GIVEN the same characters split differently
    // WHEN each split gets its key
    // THEN the keys differ
    expect(tupleKey('ab', 'c')).not.toBe(tupleKey('a', 'bc'));
    expect(tupleKey('1:a', '')).not.toBe(tupleKey('', '1:a'));
  });
});

describe('entryOf', () => {
  test('makes a missing entry once and keeps it', () => {
    // GIVEN an empty map and a maker that counts its calls
    const map = new Map<string, number[]>();
    let made = 0;
    const make = () => {
      made++;
      return [made];
    };
    // WHEN the same key is asked for twice, and another once
    const first = entryOf(map, 'a', make);
    const again = entryOf(map, 'a', make);
    const other = entryOf(map, 'b', make);
    // THEN the first entry is made once and returned both times; the other key gets its own
    expect(again).toBe(first);
    expect(first).toEqual([1]);
    expect(other).toEqual([2]);
    expect(made).toBe(2);
  });
});
