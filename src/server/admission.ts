/**
 * Connection limits: in all, and per IP address (Ergo: 16 per IP). Counts
 * are taken when a socket is accepted and given back when it closes.
 */
export interface AdmissionLimits {
  readonly maxConnections: number;
  readonly maxPerIp: number;
}

export class Admission {
  #total = 0;
  readonly #perIp = new Map<string, number>();
  readonly #limits: AdmissionLimits;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Counts a new connection from `ip`, or says why it is refused. */
  admit(ip: string): { ok: true } | { ok: false; why: string } {
    if (this.#total >= this.#limits.maxConnections) {
      return { ok: false, why: `The server is full (${this.#limits.maxConnections} connections)` };
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxPerIp) {
      return { ok: false, why: `Too many connections from ${ip} (at most ${this.#limits.maxPerIp})` };
    }
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return { ok: true };
  }

  release(ip: string): void {
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, fromIp - 1);
    this.#total = Math.max(0, this.#total - 1);
  }

  get total(): number {
    return this.#total;
  }

  /** Distinct addresses with open connections. */
  get addresses(): number {
    return this.#perIp.size;
  }
}

/** `::ffff:127.0.0.2` and `127.0.0.2` are one address. */
export function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
