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
    if (this.#tokens >= 1) return 0;
    // A clock that went back first has to catch up with the time already credited.
    return Math.max(0, this.#updated - now) + Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }

  /**
   * Credits the time since the last refill. A clock that goes backwards
   * (Date.now after an NTP step) credits nothing, and the time already
   * credited is not credited again when it catches up.
   */
  #refill(now: number): void {
    if (!(now > this.#updated)) return;
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updated) * this.rate) / 1000);
    this.#updated = now;
  }
}
