import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClientEvent, SessionEvent } from '../../../src/client/events.ts';
import { codePointWidth, displayWidth, echoedRows, formatClosed, formatEvent, formatSessionEvent, formatUsers } from '../../../src/client/format.ts';

const message = (own: boolean, from: string, text: string): ClientEvent => ({
  type: 'message',
  own,
  message: { id: 'x1', seq: 1, time: 1764236523001, from, text },
});

describe('formatEvent: one line of text per event', () => {
  it('[CLIENT-2] shows an own message (ECHO) as "You: <text>" and others as "<name>: <text>"', () => {
    expect(formatEvent(message(true, 'alice', 'hi all'))).toEqual(['You: hi all']);
    expect(formatEvent(message(false, 'bob', 'hello alice'))).toEqual(['bob: hello alice']);
  });

  it('shows presence and renames as notices', () => {
    expect(formatEvent({ type: 'join', name: 'bob' })).toEqual(['* bob joined']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'quit', text: 'see you' })).toEqual(['* bob left (quit: see you)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'quit', text: '' })).toEqual(['* bob left (quit)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'lost', text: 'Connection closed' })).toEqual(['* bob left (connection lost)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'timeout', text: 'No PONG' })).toEqual(['* bob left (timed out)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'error', text: 'INPUT_OVERFLOW' })).toEqual(['* bob left (error: INPUT_OVERFLOW)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'shutdown', text: 'bye' })).toEqual(['* bob left (server shutdown)']);
    expect(formatEvent({ type: 'nick', from: 'bob', to: 'robert', own: false })).toEqual(['* bob is now known as robert']);
    expect(formatEvent({ type: 'nick', from: 'alice', to: 'Alice', own: true })).toEqual(['* You are now known as Alice']);
  });

  it('[PRES-1] shows a leave reason it does not know as it is', () => {
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'kicked', text: 'by admin' })).toEqual(['* bob left (kicked: by admin)']);
    expect(formatEvent({ type: 'leave', name: 'bob', reason: 'vanished', text: '' })).toEqual(['* bob left (vanished)']);
  });

  it('[ERR-4] shows errors with their code, known or not, and says when a message was not sent', () => {
    const err = (code: string, command: string, text: string, request?: 'SAY' | 'NICK'): ClientEvent => ({
      type: 'error',
      code,
      command,
      text,
      request: request === undefined ? undefined : { command: request, text: 'x' },
    });
    expect(formatEvent(err('NAME_IN_USE', 'NICK', 'Name is in use', 'NICK'))).toEqual(['! Name is in use (NAME_IN_USE)']);
    expect(formatEvent(err('BAD_CHAR', 'SAY', 'Forbidden character', 'SAY'))).toEqual(['! Message not sent: Forbidden character (BAD_CHAR)']);
    expect(formatEvent(err('SOMETHING_NEW', '*', ''))).toEqual(['! Error (SOMETHING_NEW)']);
  });

  it('reports joining, the user list, a fall-back name and shutdown', () => {
    expect(formatEvent({ type: 'ready', name: 'alice', assigned: false, users: ['alice', 'bob', 'carol'], serverName: 'x' })).toEqual([
      'You are alice. 3 users online: alice, bob, carol',
    ]);
    expect(formatEvent({ type: 'name-rejected', name: 'bob', code: 'NAME_IN_USE', text: 'The name bob is in use' })).toEqual([
      '! The name bob is in use (NAME_IN_USE)',
      '* Joining with a name chosen by the server instead.',
    ]);
    expect(formatEvent({ type: 'ready', name: 'guest-4821', assigned: true, users: ['guest-4821'], serverName: 'x' })).toEqual([
      '* The server named you guest-4821. Type /nick <name> to choose your own name.',
      'You are guest-4821. 1 user online: guest-4821',
    ]);
    expect(formatEvent({ type: 'who', users: ['a', 'b'] })).toEqual(['2 users online: a, b']);
    expect(formatEvent({ type: 'shutdown', text: 'Server is going down' })).toEqual(['* Server is shutting down: Server is going down']);
  });

  it('summarises a long user list', () => {
    const users = Array.from({ length: 35 }, (_, i) => `u${i}`);
    expect(formatUsers(users)).toMatch(/^35 users online: u0, u1, .*u29 and 5 more$/);
    expect(formatUsers([])).toBe('0 users online');
  });

  it('[CLIENT-3] says how the connection ended', () => {
    expect(formatClosed('eof', '')).toEqual(['Disconnected from the server.']);
    expect(formatClosed('error', 'connection reset by the server')).toEqual(['Connection lost: connection reset by the server']);
    expect(formatClosed('failed', 'no answer')).toEqual(['Could not join the chat: no answer']);
    expect(formatClosed('quit', '')).toEqual([]);
  });

  it('[CLIENT-1] neutralises every received field: names, texts, codes', () => {
    const esc = '\u001b[2J\u009b\u202e\u2028';
    const events: ClientEvent[] = [
      message(false, `ev${esc}il`, `t${esc}`),
      { type: 'join', name: esc },
      { type: 'leave', name: esc, reason: esc, text: esc },
      { type: 'leave', name: esc, reason: 'quit', text: esc },
      { type: 'nick', from: esc, to: esc, own: false },
      { type: 'error', code: esc, command: esc, text: esc, request: undefined },
      { type: 'name-rejected', name: esc, code: esc, text: esc },
      { type: 'ready', name: esc, assigned: true, users: [esc], serverName: esc },
      { type: 'who', users: [esc, esc] },
      { type: 'shutdown', text: esc },
      { type: 'warning', text: esc },
      { type: 'closed', cause: 'error', reason: esc },
    ];
    for (const event of events) {
      const lines = formatEvent(event);
      for (const line of lines) {
        // eslint-disable-next-line no-control-regex
        expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
      }
      // Shown, neutralised, rather than dropped.
      expect(lines.join('\n')).toContain('^[[2J');
    }
  });
});

describe('formatSessionEvent: what reconnection tells the user', () => {
  const f = (event: SessionEvent) => formatSessionEvent(event);

  it('[CLIENT-3] [CLIENT-6] says the connection dropped, then shows each attempt and why it failed', () => {
    expect(f({ type: 'disconnected', cause: 'eof', reason: '' })).toEqual(['Disconnected from the server.']);
    expect(f({ type: 'disconnected', cause: 'error', reason: 'connection reset by the server' })).toEqual([
      'Connection lost: connection reset by the server',
    ]);
    expect(f({ type: 'reconnecting', attempt: 3, delayMs: 1234 })).toEqual(['* Reconnecting in 1.2 s (attempt 3)…']);
    expect(f({ type: 'reconnecting', attempt: 1, delayMs: 0 })).toEqual(['* Reconnecting in 0.0 s (attempt 1)…']);
    expect(f({ type: 'attempt-failed', attempt: 3, reason: 'connection refused' })).toEqual(['* Could not reconnect: connection refused']);
  });

  it('[CLIENT-7] says when it is back, under which name, and how to take the old one back', () => {
    expect(f({ type: 'reconnected', name: 'alice', wanted: 'alice', users: ['alice', 'bob'] })).toEqual([
      '* Reconnected as alice.',
      '2 users online: alice, bob',
    ]);
    expect(f({ type: 'reconnected', name: 'guest-77', wanted: 'alice', users: ['guest-77'] })).toEqual([
      '* Reconnected as guest-77: the name alice was not available. Type /nick alice to try again.',
      '1 user online: guest-77',
    ]);
  });

  it('[CLIENT-8] [CLIENT-9] [CLIENT-10] accounts for every message: queued, refused, sending, unconfirmed, unsent', () => {
    expect(f({ type: 'queued', count: 3 })).toEqual(['* Not connected; your message will be sent when the connection is back (3 queued).']);
    expect(f({ type: 'refused', text: 'hi', limit: 'lines', max: 100 })).toEqual([
      '! Not connected and the queue is full (at most 100 messages); not sent: hi',
    ]);
    expect(f({ type: 'refused', text: 'hi', limit: 'bytes', max: 65536 })).toEqual([
      '! Not connected and the queue is full (at most 64 KiB); not sent: hi',
    ]);
    expect(f({ type: 'refused', text: 'hi', limit: 'bytes', max: 10 })[0]).toContain('(at most 10 bytes)');
    expect(f({ type: 'flushed', count: 1 })).toEqual(['* Sending 1 queued message.']);
    expect(f({ type: 'flushed', count: 2 })).toEqual(['* Sending 2 queued messages.']);
    expect(f({ type: 'unconfirmed', texts: ['a', 'b'] })).toEqual([
      '! Not confirmed before the connection dropped: a',
      '! Not confirmed before the connection dropped: b',
    ]);
    expect(f({ type: 'gave-up', afterMs: 60_000 })).toEqual(['! The server did not come back within 60 s; giving up.']);
    expect(f({ type: 'unsent', texts: ['x'] })).toEqual(['! Not sent: x']);
    expect(f({ type: 'ended', left: true, undelivered: 0 })).toEqual([]);
  });

  it('[CLIENT-1] neutralises received names and reasons in reconnection lines too', () => {
    const lines = [
      ...f({ type: 'reconnected', name: 'guest\u001b[2J', wanted: 'al\u009bice', users: [] }),
      ...f({ type: 'attempt-failed', attempt: 1, reason: 'bad\u001b]0;x\u0007' }),
      ...f({ type: 'unconfirmed', texts: ['\u202eevil'] }),
    ];
    // eslint-disable-next-line no-control-regex
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('passes connection events through unchanged', () => {
    expect(f({ type: 'join', name: 'bob' })).toEqual(['* bob joined']);
  });
});

describe('display width, as readline lays out the input line', () => {
  it('counts ASCII as 1, CJK and emoji as 2, combining marks and ZWJ as 0', () => {
    expect(displayWidth('hello')).toBe(5);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('😀')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(codePointWidth('\u200d')).toBe(0);
    expect(displayWidth('ｆｕｌｌ')).toBe(8);
    expect(displayWidth('한국')).toBe(4);
  });

  it('computes the rows a submitted line filled, wrapped lines included', () => {
    expect(echoedRows('You: hi', 80)).toBe(1);
    expect(echoedRows('You: ' + 'x'.repeat(74), 80)).toBe(1);
    // Exactly full: readline gives the cursor a fresh row.
    expect(echoedRows('You: ' + 'x'.repeat(75), 80)).toBe(2);
    expect(echoedRows('You: ' + 'x'.repeat(76), 80)).toBe(2);
    expect(echoedRows('You: ' + 'x'.repeat(300), 80)).toBe(4);
    expect(echoedRows('x', Infinity)).toBe(1);
  });

  it('moves a wide character that would start in the last column to the next row', () => {
    // 9 columns used, a wide char cannot start in column 10 of 10.
    expect(echoedRows('You: abcd日', 10)).toBe(2);
    expect(echoedRows('You: abc日', 10)).toBe(2); // exactly full
    expect(echoedRows('You: ab日', 10)).toBe(1);
  });

  it('property: rows grow with the text and never fall below what its width needs', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '日', '😀', 'e\u0301', ' '), maxLength: 300 }), fc.integer({ min: 4, max: 200 }), (t, cols) => {
        const rows = echoedRows(t, cols);
        expect(rows).toBeGreaterThanOrEqual(Math.floor(displayWidth(t) / cols) + 1);
        expect(echoedRows(t + 'a', cols)).toBeGreaterThanOrEqual(rows);
      }),
    );
  });
});
