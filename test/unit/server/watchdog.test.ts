/**
 * Watchdog under vitest's fake timers. The injected clock is Date.now, which
 * the fake timers drive, so advancing the timers is advancing the clock; the
 * "peer" is a lastSeen stamp the test moves when it sends input.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Watchdog, WatchdogPhase } from '../../../src/server/watchdog.ts';

const T0 = 1_764_236_523_000;
const IDLE = 1_000;
const TIMEOUT = 500;

const dogs: Watchdog[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  for (const dog of dogs.splice(0)) dog.stop();
  vi.useRealTimers();
});

function watch(options: { idleMs?: number; timeoutMs?: number } = {}) {
  const clock = () => Date.now();
  let lastSeen = clock();
  const ping = vi.fn();
  const expire = vi.fn();
  const dog = new Watchdog(
    { idleMs: options.idleMs ?? IDLE, timeoutMs: options.timeoutMs ?? TIMEOUT, clock, lastSeen: () => lastSeen },
    { ping, expire },
  );
  dogs.push(dog);
  return {
    dog,
    ping,
    expire,
    /** A line arrives now. */
    input: () => {
      lastSeen = clock();
    },
  };
}

describe('Watchdog: idle [PING-3]', () => {
  it('asks for a PING once the peer has been silent for idleMs, not before', () => {
    const { dog, ping, expire } = watch();
    expect(dog.phase).toBe(WatchdogPhase.Watching);
    vi.advanceTimersByTime(IDLE - 1);
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(dog.phase).toBe(WatchdogPhase.Pinged);
    expect(expire).not.toHaveBeenCalled();
  });

  it('sends no PING while input keeps arriving, with one lazy timer and no work per line', () => {
    const { dog, ping, expire, input } = watch();
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    for (let t = 0; t < 30_000; t += 300) {
      vi.advanceTimersByTime(300);
      input();
      input();
      expect(vi.getTimerCount()).toBe(1);
    }
    expect(ping).not.toHaveBeenCalled();
    expect(expire).not.toHaveBeenCalled();
    expect(dog.phase).toBe(WatchdogPhase.Watching);
    // Re-armed at most once per idle period, not once per line.
    expect(timeouts.mock.calls.length).toBeLessThanOrEqual(30_000 / (IDLE - 300) + 1);
  });

  it('measures idleness from the last input: a PING comes idleMs after it', () => {
    const { ping, input } = watch();
    vi.advanceTimersByTime(700);
    input();
    vi.advanceTimersByTime(IDLE - 1); // 1699
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1); // 1700 = 700 + IDLE
    expect(ping).toHaveBeenCalledTimes(1);
  });
});

describe('Watchdog: timeout [PING-3]', () => {
  it('expires the peer when nothing arrives within timeoutMs of the PING, once, and stops', () => {
    const { dog, ping, expire } = watch();
    vi.advanceTimersByTime(IDLE);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(TIMEOUT - 1);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(1);
    expect(dog.phase).toBe(WatchdogPhase.Stopped);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('a line after the PING puts it back to watching: no expiry, and the next PING after idleMs of silence', () => {
    const { dog, ping, expire, input } = watch();
    vi.advanceTimersByTime(IDLE); // PING at 1000
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(200);
    input(); // PONG at 1200
    vi.advanceTimersByTime(TIMEOUT - 200); // the timeout check at 1500
    expect(expire).not.toHaveBeenCalled();
    expect(dog.phase).toBe(WatchdogPhase.Watching);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(IDLE - TIMEOUT + 200 - 1); // 2199
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1); // 2200 = 1200 + IDLE
    expect(ping).toHaveBeenCalledTimes(2);
    expect(dog.phase).toBe(WatchdogPhase.Pinged);
    // This time nobody answers.
    vi.advanceTimersByTime(TIMEOUT);
    expect(expire).toHaveBeenCalledTimes(1);
  });

  it('a peer that answers every PING within 10 ms is never expired, and is PINGed once per idle period', () => {
    const { ping, expire, input } = watch();
    ping.mockImplementation(() => setTimeout(input, 10)); // the PONG
    vi.advanceTimersByTime(60_000);
    expect(expire).not.toHaveBeenCalled();
    // A PING each IDLE + 10 ms: the answer ends the silence, and idleness starts again from it.
    expect(ping).toHaveBeenCalledTimes(Math.floor(60_000 / (IDLE + 10)));
  });

  it('counts an answer that arrives in the same millisecond as the PING (a fast loopback peer)', () => {
    const { dog, ping, expire, input } = watch();
    ping.mockImplementation(() => input()); // the PONG, stamped with the PING's own clock value
    vi.advanceTimersByTime(IDLE);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(TIMEOUT);
    expect(expire).not.toHaveBeenCalled();
    expect(dog.phase).not.toBe(WatchdogPhase.Stopped);
    vi.advanceTimersByTime(10 * IDLE);
    expect(expire).not.toHaveBeenCalled();
    expect(ping.mock.calls.length).toBeGreaterThanOrEqual(7);
  });

  it('counts only input after the PING, not input at an earlier time', () => {
    const { ping, expire, input } = watch();
    vi.advanceTimersByTime(IDLE - 1);
    input(); // just before going idle
    vi.advanceTimersByTime(IDLE);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(TIMEOUT);
    expect(expire).toHaveBeenCalledTimes(1);
  });
});

describe('Watchdog: stop [QUIT-3]', () => {
  it('stop() while watching clears the timer, so nothing fires', () => {
    const { dog, ping, expire } = watch();
    expect(vi.getTimerCount()).toBe(1);
    dog.stop();
    expect(dog.phase).toBe(WatchdogPhase.Stopped);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(ping).not.toHaveBeenCalled();
    expect(expire).not.toHaveBeenCalled();
  });

  it('stop() after the PING clears the timeout, so the peer is not expired', () => {
    const { dog, ping, expire } = watch();
    vi.advanceTimersByTime(IDLE);
    expect(ping).toHaveBeenCalledTimes(1);
    dog.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(expire).not.toHaveBeenCalled();
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('stop() is idempotent', () => {
    const { dog } = watch();
    dog.stop();
    dog.stop();
    expect(dog.phase).toBe(WatchdogPhase.Stopped);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() from inside ping() leaves no timer behind', () => {
    const clock = () => Date.now();
    const expire = vi.fn();
    let dog!: Watchdog;
    const ping = vi.fn(() => dog.stop());
    dog = new Watchdog({ idleMs: IDLE, timeoutMs: TIMEOUT, clock, lastSeen: () => T0 }, { ping, expire });
    dogs.push(dog);
    vi.advanceTimersByTime(IDLE);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(expire).not.toHaveBeenCalled();
  });
});
