import { describe, expect, it } from 'vitest';
import { Session, SessionState } from '../../../src/server/session.ts';
import type { Connection } from '../../../src/server/transport.ts';
import { FakeConnection } from './fakes.ts';

function session(id = 7) {
  const conn = new FakeConnection('10.0.0.1:5555');
  return { conn, session: new Session(id, conn as unknown as Connection) };
}

describe('Session', () => {
  it('starts in the greeting state without a name (SPEC §4)', () => {
    const { session: s } = session();
    expect(s.state).toBe(SessionState.Greeting);
    expect(s.name).toBe('');
    expect(s.id).toBe(7);
  });

  it('is labelled by number and address until registered, then by name, then by number again', () => {
    const { session: s } = session(12);
    expect(s.label).toBe('#12 (10.0.0.1:5555)');
    s.name = 'alice';
    s.state = SessionState.Registered;
    expect(s.label).toBe('alice');
    s.state = SessionState.Gone;
    expect(s.label).toBe('#12 (10.0.0.1:5555)');
  });

  it('sends through its connection, strings and bytes alike', () => {
    const { conn, session: s } = session();
    s.send('PONG a\n');
    s.send(Buffer.from('PONG b\n'));
    expect(conn.take()).toEqual(['PONG a', 'PONG b']);
  });

  it('ignores a refused send: a closing connection drops it silently', () => {
    const { conn, session: s } = session();
    conn.close('BYE\n');
    expect(() => s.send('late\n')).not.toThrow();
    expect(conn.take()).toEqual(['BYE']);
  });
});
