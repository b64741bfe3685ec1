/**
 * Keepalive for one connection ([PING-3]): after `idleMs` without input it
 * asks the owner to PING; if nothing at all arrives within `timeoutMs` after
 * that, it expires the connection. A frozen peer (SIGSTOP) has a kernel that
 * still ACKs TCP, so only this application-level check finds it.
 *
 * The transport stamps the time of the last chunk it read; the one timer
 * reads that stamp when it fires and re-arms itself lazily, so there is no
 * per-line timer work at all.
 */

export interface WatchdogOptions {
  readonly idleMs: number;
  readonly timeoutMs: number;
  readonly clock: () => number;
  /** When input last arrived, on the same clock. */
  readonly lastSeen: () => number;
}

export interface WatchdogActions {
  ping(): void;
  expire(): void;
}

export const WatchdogPhase = {
  Watching: 'watching',
  Pinged: 'pinged',
  Stopped: 'stopped',
} as const;
export type WatchdogPhase = (typeof WatchdogPhase)[keyof typeof WatchdogPhase];

export class Watchdog {
  #phase: WatchdogPhase = WatchdogPhase.Watching;
  #pingedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #options: WatchdogOptions;
  readonly #actions: WatchdogActions;

  constructor(options: WatchdogOptions, actions: WatchdogActions) {
    this.#options = options;
    this.#actions = actions;
    this.#arm(options.idleMs);
  }

  get phase(): WatchdogPhase {
    return this.#phase;
  }

  stop(): void {
    this.#phase = WatchdogPhase.Stopped;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    // A static callback with the dog as its argument: no closure per watchdog.
    this.#timer = setTimeout(Watchdog.#fire, Math.max(1, ms), this);
  }

  static #fire(dog: Watchdog): void {
    dog.#check();
  }

  #check(): void {
    this.#timer = undefined;
    const now = this.#options.clock();
    const lastSeen = this.#options.lastSeen();
    const { idleMs, timeoutMs } = this.#options;
    if (this.#phase === WatchdogPhase.Pinged) {
      // The PING went out after at least idleMs of silence, so input stamped
      // at #pingedAt itself came after it: a loopback PONG often arrives
      // within the same millisecond.
      if (lastSeen < this.#pingedAt) {
        this.stop();
        this.#actions.expire();
        return;
      }
      this.#phase = WatchdogPhase.Watching;
    }
    if (this.#phase !== WatchdogPhase.Watching) return;
    const idle = now - lastSeen;
    if (idle < idleMs) {
      this.#arm(idleMs - idle);
      return;
    }
    this.#phase = WatchdogPhase.Pinged;
    this.#pingedAt = now;
    this.#arm(timeoutMs);
    this.#actions.ping();
  }
}
