import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeenIds } from '../../../src/client/seen.ts';

describe('SeenIds: the ids already shown, bounded [CLIENT-11]', () => {
  it('remembers an id once: add is true the first time only', () => {
    const seen = new SeenIds(10);
    expect(seen.add('a')).toBe(true);
    expect(seen.add('a')).toBe(false);
    expect(seen.has('a')).toBe(true);
    expect(seen.has('b')).toBe(false);
  });

  it('forgets the oldest id first once full, and never holds more than its capacity', () => {
    const seen = new SeenIds(3);
    for (const id of ['a', 'b', 'c', 'd']) seen.add(id);
    expect(seen.size).toBe(3);
    expect(seen.has('a')).toBe(false);
    expect([seen.has('b'), seen.has('c'), seen.has('d')]).toEqual([true, true, true]);
    // A repeat does not take a slot or refresh anything.
    expect(seen.add('b')).toBe(false);
    seen.add('e');
    expect(seen.has('b')).toBe(false);
  });

  it('property: size never exceeds capacity, and the last `capacity` distinct ids are all remembered', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }).map(String), { maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (ids, capacity) => {
        const seen = new SeenIds(capacity);
        const order: string[] = [];
        for (const id of ids) if (seen.add(id)) order.push(id);
        expect(seen.size).toBeLessThanOrEqual(capacity);
        for (const id of order.slice(-capacity)) expect(seen.has(id)).toBe(true);
      }),
    );
  });

  it('remembers 4096 ids by default', () => {
    expect(new SeenIds().capacity).toBe(4096);
  });

  it('rejects an unusable capacity', () => {
    expect(() => new SeenIds(0)).toThrow(RangeError);
  });
});
