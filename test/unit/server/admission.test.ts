/** Admission: connection limits in all and per IP address, and normalizeIp. */
import { describe, expect, it } from 'vitest';
import { Admission, normalizeIp } from '../../../src/server/admission.ts';

describe('Admission: the total limit', () => {
  it('admits up to maxConnections, then refuses, naming the limit', () => {
    const admission = new Admission({ maxConnections: 3, maxPerIp: 100 });
    expect(admission.admit('10.0.0.1')).toEqual({ ok: true });
    expect(admission.admit('10.0.0.2')).toEqual({ ok: true });
    expect(admission.admit('10.0.0.3')).toEqual({ ok: true });
    const refused = admission.admit('10.0.0.4');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.why).toContain('3');
    expect(admission.total).toBe(3);
    expect(admission.addresses).toBe(3);
  });

  it('a refused connection is not counted', () => {
    const admission = new Admission({ maxConnections: 1, maxPerIp: 100 });
    expect(admission.admit('10.0.0.1').ok).toBe(true);
    for (let i = 0; i < 10; i++) expect(admission.admit('10.0.0.2').ok).toBe(false);
    expect(admission.total).toBe(1);
    expect(admission.addresses).toBe(1);
    admission.release('10.0.0.1');
    expect(admission.admit('10.0.0.2').ok).toBe(true);
  });

  it('release makes room for one more', () => {
    const admission = new Admission({ maxConnections: 2, maxPerIp: 100 });
    admission.admit('10.0.0.1');
    admission.admit('10.0.0.2');
    expect(admission.admit('10.0.0.3').ok).toBe(false);
    admission.release('10.0.0.1');
    expect(admission.total).toBe(1);
    expect(admission.admit('10.0.0.3').ok).toBe(true);
    expect(admission.admit('10.0.0.4').ok).toBe(false);
  });
});

describe('Admission: the per-IP limit', () => {
  it('admits up to maxPerIp from one address, then refuses it, naming the address and the limit', () => {
    const admission = new Admission({ maxConnections: 100, maxPerIp: 2 });
    expect(admission.admit('127.0.0.1').ok).toBe(true);
    expect(admission.admit('127.0.0.1').ok).toBe(true);
    const refused = admission.admit('127.0.0.1');
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.why).toContain('127.0.0.1');
      expect(refused.why).toContain('2');
    }
    expect(admission.total).toBe(2);
  });

  it('other addresses are still admitted while one is at its limit', () => {
    const admission = new Admission({ maxConnections: 100, maxPerIp: 1 });
    expect(admission.admit('127.0.0.1').ok).toBe(true);
    expect(admission.admit('127.0.0.1').ok).toBe(false);
    expect(admission.admit('127.0.0.2').ok).toBe(true);
    expect(admission.admit('::1').ok).toBe(true);
    expect(admission.total).toBe(3);
    expect(admission.addresses).toBe(3);
  });

  it('release gives one connection back to its address', () => {
    const admission = new Admission({ maxConnections: 100, maxPerIp: 2 });
    admission.admit('127.0.0.1');
    admission.admit('127.0.0.1');
    admission.release('127.0.0.1');
    expect(admission.addresses).toBe(1);
    expect(admission.admit('127.0.0.1').ok).toBe(true);
    expect(admission.admit('127.0.0.1').ok).toBe(false);
  });

  it('the total limit is checked too when the address has room', () => {
    const admission = new Admission({ maxConnections: 2, maxPerIp: 5 });
    admission.admit('127.0.0.1');
    admission.admit('127.0.0.2');
    const refused = admission.admit('127.0.0.3');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.why).not.toContain('127.0.0.3');
  });
});

describe('Admission: release [QUIT-3]', () => {
  it('forgets an address once its last connection is released, and returns to zero', () => {
    const admission = new Admission({ maxConnections: 10, maxPerIp: 10 });
    const ips = ['127.0.0.1', '127.0.0.1', '127.0.0.2', '::1', '127.0.0.1'];
    for (const ip of ips) expect(admission.admit(ip).ok).toBe(true);
    expect(admission.total).toBe(5);
    expect(admission.addresses).toBe(3);
    for (const ip of ips) admission.release(ip);
    expect(admission.total).toBe(0);
    expect(admission.addresses).toBe(0);
  });

  it('a stray release never drives the counts below zero', () => {
    const admission = new Admission({ maxConnections: 1, maxPerIp: 1 });
    admission.release('10.9.9.9');
    expect(admission.total).toBe(0);
    expect(admission.addresses).toBe(0);
    expect(admission.admit('10.9.9.9').ok).toBe(true);
    expect(admission.admit('10.9.9.9').ok).toBe(false);
  });
});

describe('normalizeIp', () => {
  it('maps an IPv4-mapped IPv6 address to the IPv4 address, so both count as one', () => {
    expect(normalizeIp('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(normalizeIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    const admission = new Admission({ maxConnections: 10, maxPerIp: 1 });
    expect(admission.admit(normalizeIp('127.0.0.2')).ok).toBe(true);
    expect(admission.admit(normalizeIp('::ffff:127.0.0.2')).ok).toBe(false);
  });

  it('leaves IPv4 and other IPv6 addresses as they are', () => {
    expect(normalizeIp('127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1');
    // Not a mapped IPv4 address: no dotted quad after the prefix.
    expect(normalizeIp('::ffff:7f00:1')).toBe('::ffff:7f00:1');
  });

  it('names a socket without an address (already closed) "unknown"', () => {
    expect(normalizeIp(undefined)).toBe('unknown');
  });
});
