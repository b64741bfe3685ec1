/**
 * When to try again: capped exponential backoff with full jitter, and the
 * timer functions it runs on, injectable so that tests never sleep.
 */

export interface Backoff {
  readonly baseMs: number;
  readonly factor: number;
  readonly capMs: number;
}

/** 0.5 s, 1 s, 2 s … up to 15 s: fast enough for a restart, gentle on a server that is struggling. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ baseMs: 500, factor: 2, capMs: 15_000 });

/**
 * At end of input, how long a client waits for a lost server to come back
 * before it gives up ([CLIENT-10]): several attempts at the cap.
 */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 60_000;

/** The timer functions the supervisor uses; a test passes a manual one. */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_SCHEDULER: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * "Full jitter": a uniformly random delay in [0, min(cap, base × factor^(attempt−1))).
 * Spreading attempts over the whole range, rather than around the ceiling,
 * keeps the clients of a restarted server from arriving all at once.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * backoff.factor ** exponent);
  // Clamped so that a random source returning 1, or worse, or NaN, cannot leave [0, ceiling].
  const value = random();
  const r = value > 0 ? Math.min(value, 1) : 0;
  return Math.floor(r * ceiling);
}
