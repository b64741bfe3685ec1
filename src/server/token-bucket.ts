/**
 * A token bucket for flood control (RFC 1459 §8.10, Ergo's fakelag): `burst`
 * lines may arrive back to back, then `rate` lines per second. Pure: the
 * clock is passed in, so tests step time instead of sleeping.
 */
export class TokenBucket {
  #tokens: number;
  #updated: number;

  constructor(
    readonly burst: number,
    /** Tokens per second; 0 means unlimited. */
    readonly rate: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#updated = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (this.rate === 0) return true;
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token (0 if one is there now). */
  waitMs(now: number): number {
    if (this.rate === 0) return 0;
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updated);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    this.#updated = now;
  }
}
