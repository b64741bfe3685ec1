/**
 * TokenBucket: pure, so every test steps an explicit clock value instead of
 * sleeping. Times are milliseconds; `rate` is tokens per second.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBucket } from '../../../src/server/token-bucket.ts';

const T0 = 1_764_236_523_000;

/** How many of `n` takes at `now` are granted. */
function takeMany(bucket: TokenBucket, n: number, now: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (bucket.take(now)) granted++;
  return granted;
}

describe('TokenBucket: burst', () => {
  it('grants exactly `burst` tokens back to back, then refuses', () => {
    const bucket = new TokenBucket(5, 1, T0);
    expect(takeMany(bucket, 5, T0)).toBe(5);
    expect(bucket.take(T0)).toBe(false);
    expect(bucket.take(T0)).toBe(false);
  });

  it('starts full', () => {
    const bucket = new TokenBucket(3, 0.5, T0);
    expect(bucket.waitMs(T0)).toBe(0);
    expect(takeMany(bucket, 10, T0)).toBe(3);
  });

  it('with burst 1 alternates between one token and a wait', () => {
    const bucket = new TokenBucket(1, 10, T0);
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.take(T0)).toBe(false);
    expect(bucket.take(T0 + 99)).toBe(false);
    expect(bucket.take(T0 + 100)).toBe(true);
    expect(bucket.take(T0 + 100)).toBe(false);
  });
});

describe('TokenBucket: refill', () => {
  it('refills `rate` tokens per second', () => {
    const bucket = new TokenBucket(5, 2, T0);
    expect(takeMany(bucket, 5, T0)).toBe(5);
    expect(bucket.take(T0 + 499)).toBe(false);
    expect(bucket.take(T0 + 500)).toBe(true);
    expect(bucket.take(T0 + 500)).toBe(false);
    // One second later: two more tokens.
    expect(takeMany(bucket, 5, T0 + 1500)).toBe(2);
  });

  it('refills fractional rates: 0.5 per second is one token every 2 s', () => {
    const bucket = new TokenBucket(1, 0.5, T0);
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.take(T0 + 1999)).toBe(false);
    expect(bucket.take(T0 + 2000)).toBe(true);
    expect(bucket.take(T0 + 2000)).toBe(false);
  });

  it('keeps a partial token across calls: many short steps add up like one long one', () => {
    const bucket = new TokenBucket(2, 4, T0);
    expect(takeMany(bucket, 2, T0)).toBe(2);
    // 4 per second: a token every 250 ms, seen through 10 ms steps.
    let granted = 0;
    for (let t = T0 + 10; t <= T0 + 1000; t += 10) if (bucket.take(t)) granted++;
    expect(granted).toBe(4);
  });

  it('caps the tokens at `burst`, however long the bucket was idle', () => {
    const bucket = new TokenBucket(3, 10, T0);
    expect(takeMany(bucket, 3, T0)).toBe(3);
    expect(takeMany(bucket, 100, T0 + 3_600_000)).toBe(3);
    expect(bucket.take(T0 + 3_600_000)).toBe(false);
  });

  it('does not count idle time before the first take as extra burst', () => {
    const bucket = new TokenBucket(4, 100, T0);
    expect(takeMany(bucket, 100, T0 + 60_000)).toBe(4);
  });
});

describe('TokenBucket: rate 0 is unlimited', () => {
  it('grants every take and never asks to wait', () => {
    const bucket = new TokenBucket(1, 0, T0);
    expect(takeMany(bucket, 10_000, T0)).toBe(10_000);
    expect(bucket.waitMs(T0)).toBe(0);
    expect(bucket.take(T0 - 1_000_000)).toBe(true);
  });
});

describe('TokenBucket: waitMs', () => {
  it('is 0 while a token is there, and does not take it', () => {
    const bucket = new TokenBucket(2, 1, T0);
    expect(bucket.waitMs(T0)).toBe(0);
    expect(bucket.waitMs(T0)).toBe(0);
    expect(takeMany(bucket, 3, T0)).toBe(2);
  });

  it('is the exact time to the next token: a take then succeeds, and a take 1 ms earlier fails', () => {
    const bucket = new TokenBucket(1, 3, T0);
    expect(bucket.take(T0)).toBe(true);
    // 3 per second: the next token after 333.3 ms, so at 334 ms.
    expect(bucket.waitMs(T0)).toBe(334);
    expect(bucket.waitMs(T0 + 100)).toBe(234);
    expect(bucket.take(T0 + 333)).toBe(false);
    expect(bucket.waitMs(T0 + 333)).toBe(1);
    expect(bucket.take(T0 + 334)).toBe(true);
  });

  it('counts a partial token already earned', () => {
    const bucket = new TokenBucket(1, 10, T0);
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.waitMs(T0 + 30)).toBe(70);
    expect(bucket.take(T0 + 99)).toBe(false);
    expect(bucket.take(T0 + 100)).toBe(true);
  });

  it('property: take(now + waitMs(now)) succeeds and, when waitMs > 0, take one ms earlier fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0.001, max: 10_000, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 0, max: T0 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 60 }),
        (burst, rate, start, steps) => {
          // Two identical buckets: one to probe one ms early, one to probe on time.
          const early = new TokenBucket(burst, rate, start);
          const onTime = new TokenBucket(burst, rate, start);
          let now = start;
          for (const step of steps) {
            now += step;
            expect(early.take(now)).toBe(onTime.take(now));
          }
          const wait = onTime.waitMs(now);
          expect(early.waitMs(now)).toBe(wait);
          expect(Number.isSafeInteger(wait)).toBe(true);
          expect(wait).toBeGreaterThanOrEqual(0);
          if (wait > 0) expect(early.take(now + wait - 1)).toBe(false);
          expect(onTime.take(now + wait)).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('TokenBucket: a clock that goes backwards', () => {
  it('grants nothing for time going back, and does not credit the same time twice when it catches up', () => {
    const bucket = new TokenBucket(2, 1, T0);
    expect(takeMany(bucket, 2, T0)).toBe(2);
    // The clock steps back 5 s: no token, and the wait includes catching up.
    expect(bucket.take(T0 - 5_000)).toBe(false);
    expect(bucket.waitMs(T0 - 5_000)).toBe(6_000);
    // Back at T0: the 5 s of going back and forth earned nothing.
    expect(bucket.take(T0)).toBe(false);
    expect(bucket.waitMs(T0)).toBe(1_000);
    expect(bucket.take(T0 + 999)).toBe(false);
    expect(bucket.take(T0 + 1_000)).toBe(true);
  });

  it('still spends tokens it already has while the clock is behind', () => {
    const bucket = new TokenBucket(3, 1, T0);
    expect(bucket.take(T0)).toBe(true);
    expect(takeMany(bucket, 5, T0 - 60_000)).toBe(2);
    expect(bucket.take(T0)).toBe(false);
  });
});

describe('TokenBucket: the flood-control bound (RFC 1459 §8.10)', () => {
  it('property: the takes granted within any [t0, t1] never exceed burst + rate·(t1 − t0)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.oneof(
          fc.integer({ min: 1, max: 1_000 }),
          fc.constantFrom(0.5, 0.1, 0.25, 2.5, 1 / 3),
          fc.double({ min: 0.01, max: 1_000, noNaN: true, noDefaultInfinity: true }),
        ),
        fc.integer({ min: 0, max: T0 }),
        // Increasing times: each step is a delay, often 0 (a back-to-back burst).
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5_000 })), {
          minLength: 1,
          maxLength: 300,
        }),
        (burst, rate, start, steps) => {
          const bucket = new TokenBucket(burst, rate, start);
          const granted: number[] = [];
          let now = start;
          for (const step of steps) {
            now += step;
            if (bucket.take(now)) granted.push(now);
          }
          // The tightest windows are those from one granted take to another.
          for (let i = 0; i < granted.length; i++) {
            for (let j = i; j < granted.length; j++) {
              const count = j - i + 1;
              expect(count).toBeLessThanOrEqual(burst + (rate * (granted[j]! - granted[i]!)) / 1000);
            }
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('a client taking as fast as waitMs allows gets burst + rate·t tokens: no more, and no fewer', () => {
    for (const [burst, rate, span, expected] of [
      [5, 10, 2_000, 25],
      [20, 10, 60_000, 620],
      [1, 0.5, 10_000, 6],
      [3, 4, 999, 6],
    ] as const) {
      const bucket = new TokenBucket(burst, rate, T0);
      let granted = 0;
      // As the transport does: take while it can, then wait exactly waitMs.
      for (let t = T0; t <= T0 + span; t += bucket.waitMs(t)) while (bucket.take(t)) granted++;
      expect(granted, `burst ${burst}, rate ${rate}, ${span} ms`).toBe(expected);
    }
  });
});
