/**
 * The catch-up plan on its own: a recording port stands in for the
 * connection and the display, so every request it makes and every batch it
 * releases is checked without a socket.
 */
import { describe, expect, it } from 'vitest';
import { CatchUp, MAX_CATCH_UP_PAGES, MAX_HELD_LIVE, type CatchUpPort, type HeldMessage } from '../../../src/client/catch-up.ts';
import type { HistoryQuery } from '../../../src/protocol/history.ts';
import { historyQueryParams } from '../../../src/protocol/history.ts';

class Recorder implements CatchUpPort {
  readonly sent: string[] = [];
  readonly released: Array<{ target: string; ids: string[]; origins: string[]; more: boolean }> = [];
  readonly resets: string[] = [];
  join(room: string): void {
    this.sent.push(`JOIN ${room}`);
  }
  history(target: string, query: HistoryQuery): void {
    this.sent.push(`HISTORY ${target} ${historyQueryParams(query).join(' ')}`);
  }
  release(target: string, messages: readonly HeldMessage[], more: boolean): void {
    this.released.push({ target, ids: messages.map((m) => m.message.id), origins: messages.map((m) => m.origin), more });
  }
  reset(target: string): void {
    this.resets.push(target);
  }
  overflows = 0;
  overflow(): void {
    this.overflows++;
  }
}

const msg = (id: string, seq: number, to: string, origin: 'live' | 'missed' = 'missed'): HeldMessage => ({
  message: { id, seq, time: 1000 + seq, from: 'bob', to, kind: 'say', text: id },
  own: false,
  origin,
});

describe('CatchUp [HIST-6]', () => {
  it('rejoins every room the server did not join it to, asks each for what came after its last id, and releases in seq order, each id once', () => {
    const port = new Recorder();
    const plan = new CatchUp(
      [
        { room: '#lobby', lastId: 'l3' },
        { room: '#rust', lastId: 'r1' },
      ],
      'p1',
      ['#lobby'],
      500,
      port,
    );
    plan.start();
    expect(port.sent).toEqual(['JOIN #rust']);
    expect(plan.rejoining).toEqual(['#rust']);
    expect(plan.holds('#LOBBY')).toBe(true);

    // The lobby's replay (the server joined us): its newest messages, some seen.
    plan.joined('#lobby', [msg('l2', 2, '#lobby'), msg('l3', 3, '#lobby'), msg('l5', 5, '#lobby')]);
    expect(port.sent.at(-1)).toBe('HISTORY #lobby AFTER id=l3 500');
    // A live message arrives before the page: held, to keep the order.
    expect(plan.hold(msg('l6', 6, '#lobby', 'live'))).toBe(true);
    plan.page('#lobby', [msg('l4', 4, '#lobby'), msg('l5', 5, '#lobby'), msg('l6', 6, '#lobby')]);
    expect(port.released).toEqual([
      { target: '#lobby', ids: ['l2', 'l3', 'l4', 'l5', 'l6'], origins: ['missed', 'missed', 'missed', 'missed', 'live'], more: false },
    ]);
    expect(plan.holds('#lobby')).toBe(false);
    expect(plan.hold(msg('l7', 7, '#lobby', 'live'))).toBe(false);

    // Private messages wait until every room is done.
    expect(port.sent).not.toContain('HISTORY * AFTER id=p1 500');
    plan.joined('#rust', [msg('r1', 1, '#rust')]);
    plan.page('#rust', []);
    expect(port.sent.slice(-2)).toEqual(['HISTORY #rust AFTER id=r1 500', 'HISTORY * AFTER id=p1 500']);
    expect(plan.isDone).toBe(false);
    plan.page('*', [msg('p2', 1, 'alice')]);
    expect(port.released.at(-1)).toEqual({ target: '*', ids: ['p2'], origins: ['missed'], more: false });
    expect(plan.isDone).toBe(true);
  });

  it('pages while a page comes back full, from the last id of each, up to a bound', () => {
    const port = new Recorder();
    const plan = new CatchUp([{ room: '#lobby', lastId: 'a0' }], undefined, ['#lobby'], 2, port);
    plan.start();
    plan.joined('#lobby', []);
    plan.page('#lobby', [msg('a1', 1, '#lobby'), msg('a2', 2, '#lobby')]);
    plan.page('#lobby', [msg('a3', 3, '#lobby'), msg('a4', 4, '#lobby')]);
    plan.page('#lobby', [msg('a5', 5, '#lobby')]);
    expect(port.sent).toEqual(['HISTORY #lobby AFTER id=a0 2', 'HISTORY #lobby AFTER id=a2 2', 'HISTORY #lobby AFTER id=a4 2']);
    expect(port.released).toEqual([{ target: '#lobby', ids: ['a1', 'a2', 'a3', 'a4', 'a5'], origins: Array(5).fill('missed'), more: false }]);

    const capped = new Recorder();
    const long = new CatchUp([{ room: '#lobby', lastId: 'x' }], undefined, ['#lobby'], 1, capped);
    long.start();
    long.joined('#lobby', []);
    for (let i = 1; i <= MAX_CATCH_UP_PAGES; i++) long.page('#lobby', [msg(`m${i}`, i, '#lobby')]);
    expect(capped.sent).toHaveLength(MAX_CATCH_UP_PAGES);
    expect(capped.released).toHaveLength(1);
    expect(capped.released[0]!.more).toBe(true);
  });

  it('falls back to LATEST after UNKNOWN_MESSAGE, once per target, and says so once', () => {
    const port = new Recorder();
    const plan = new CatchUp([{ room: '#lobby', lastId: 'gone' }], 'gone', ['#lobby'], 50, port);
    plan.start();
    plan.joined('#lobby', [msg('n1', 1, '#lobby')]);
    plan.failed('#lobby', 'UNKNOWN_MESSAGE');
    expect(port.resets).toEqual(['#lobby']);
    expect(port.sent.slice(-1)).toEqual(['HISTORY #lobby LATEST 50']);
    plan.page('#lobby', [msg('n1', 1, '#lobby'), msg('n2', 2, '#lobby')]);
    expect(port.released).toEqual([{ target: '#lobby', ids: ['n1', 'n2'], origins: ['missed', 'missed'], more: false }]);
    // Private messages: the same fallback.
    expect(port.sent.at(-1)).toBe('HISTORY * AFTER id=gone 50');
    plan.failed('*', 'UNKNOWN_MESSAGE');
    expect(port.sent.at(-1)).toBe('HISTORY * LATEST 50');
    plan.failed('*', 'UNKNOWN_MESSAGE');
    expect(plan.isDone).toBe(true);
    // Told once: a server that forgot one id forgot them all.
    expect(port.resets).toEqual(['#lobby']);
  });

  it('skips AFTER for a room where nothing was seen, and the private catch-up when nothing was received at all', () => {
    const port = new Recorder();
    const plan = new CatchUp([{ room: '#quiet', lastId: undefined }], undefined, ['#lobby'], 500, port);
    plan.start();
    expect(port.sent).toEqual(['JOIN #quiet']);
    plan.joined('#quiet', [msg('q1', 1, '#quiet')]);
    expect(port.sent).toEqual(['JOIN #quiet']);
    expect(port.released).toEqual([{ target: '#quiet', ids: ['q1'], origins: ['missed'], more: false }]);
    expect(plan.isDone).toBe(true);
  });

  it('gives up on a room it could not rejoin, and on one whose history was refused otherwise', () => {
    const port = new Recorder();
    const plan = new CatchUp(
      [
        { room: '#gone', lastId: 'g1' },
        { room: '#kept', lastId: 'k1' },
      ],
      undefined,
      [],
      500,
      port,
    );
    plan.start();
    // Rooms the server did not join us to are joined by the plan.
    expect(port.sent).toEqual(['JOIN #gone', 'JOIN #kept']);
    expect(plan.hold(msg('g9', 9, '#gone', 'live'))).toBe(true);
    plan.joinFailed('#gone');
    plan.joined('#kept', []);
    plan.failed('#kept', 'NOT_IN_ROOM');
    expect(port.released).toEqual([]);
    expect(plan.isDone).toBe(true);
  });

  it('holds live private messages from the start until the last * page, then releases them after the pages, each id once', () => {
    const port = new Recorder();
    const plan = new CatchUp([{ room: '#lobby', lastId: 'l1' }], 'p1', ['#lobby'], 2, port);
    plan.start();
    const own = (item: HeldMessage): HeldMessage => ({ ...item, own: true });
    // While the rooms catch up, before `*` is even asked.
    expect(plan.hold(msg('p5', 5, 'alice', 'live'))).toBe(true);
    plan.joined('#lobby', []);
    plan.page('#lobby', []);
    expect(port.sent.at(-1)).toBe('HISTORY * AFTER id=p1 2');
    // During the `*` pages: a new private message, and the ECHO of one we sent.
    expect(plan.hold(msg('p6', 6, 'alice', 'live'))).toBe(true);
    expect(plan.hold(own(msg('q1', 1, 'carol', 'live')))).toBe(true);
    plan.page('*', [msg('p2', 2, 'alice'), msg('l2', 2, '#lobby')]);
    expect(port.sent.at(-1)).toBe('HISTORY * AFTER id=l2 2');
    expect(port.released).toEqual([]);
    expect(plan.hold(msg('p7', 7, 'alice', 'live'))).toBe(true);
    // The last page holds p5 too: it takes its place there, as live; p6, q1 and p7 follow as they came.
    plan.page('*', [msg('p5', 5, 'alice')]);
    expect(port.released).toEqual([
      { target: '*', ids: ['p2', 'l2', 'p5', 'p6', 'q1', 'p7'], origins: ['missed', 'missed', 'live', 'live', 'live', 'live'], more: false },
    ]);
    expect(plan.isDone).toBe(true);
    expect(plan.hold(msg('p8', 8, 'alice', 'live'))).toBe(false);
  });

  it('holds no private message when there is no * catch-up, and releases them when * is refused', () => {
    const none = new CatchUp([{ room: '#lobby', lastId: 'l1' }], undefined, ['#lobby'], 500, new Recorder());
    none.start();
    expect(none.hold(msg('p1', 1, 'alice', 'live'))).toBe(false);
    expect(none.hold(msg('l2', 2, '#lobby', 'live'))).toBe(true);

    const port = new Recorder();
    const refused = new CatchUp([], 'p1', [], 500, port);
    refused.start();
    expect(port.sent).toEqual(['HISTORY * AFTER id=p1 500']);
    expect(refused.hold(msg('p2', 2, 'alice', 'live'))).toBe(true);
    refused.failed('*', 'BAD_PARAMS');
    expect(port.released).toEqual([{ target: '*', ids: ['p2'], origins: ['live'], more: false }]);
  });

  it('holds at most MAX_HELD_LIVE live messages in all: past it the oldest is dropped, and the port told once', () => {
    const port = new Recorder();
    const plan = new CatchUp(
      [
        { room: '#a', lastId: 'a0' },
        { room: '#b', lastId: 'b0' },
      ],
      'p0',
      ['#a', '#b'],
      500,
      port,
    );
    plan.start();
    const extra = 10;
    // Alternating between two rooms and private messages, as a flooding server might.
    const targets = ['#a', '#b', 'alice'];
    for (let i = 1; i <= MAX_HELD_LIVE + extra; i++) expect(plan.hold(msg(`m${i}`, i, targets[i % 3]!, 'live'))).toBe(true);
    expect(port.overflows).toBe(1);
    plan.joined('#a', []);
    plan.page('#a', []);
    plan.joined('#b', []);
    plan.page('#b', []);
    plan.page('*', []);
    const released = port.released.flatMap((r) => r.ids);
    expect(released).toHaveLength(MAX_HELD_LIVE);
    // The oldest were dropped, whichever target they were held for.
    expect(released).not.toContain(`m${extra}`);
    expect(new Set(released)).toEqual(new Set(Array.from({ length: MAX_HELD_LIVE }, (_, i) => `m${i + extra + 1}`)));
  });

  it('counts only what is still held: a target released frees its share of the bound', () => {
    const port = new Recorder();
    const plan = new CatchUp([{ room: '#a', lastId: 'a0' }], 'p0', ['#a'], 500, port);
    plan.start();
    for (let i = 1; i <= MAX_HELD_LIVE; i++) plan.hold(msg(`a${i}`, i, '#a', 'live'));
    plan.joined('#a', []);
    plan.page('#a', []);
    expect(port.released[0]!.ids).toHaveLength(MAX_HELD_LIVE);
    for (let i = 1; i <= MAX_HELD_LIVE; i++) plan.hold(msg(`p${i}`, i, 'alice', 'live'));
    plan.page('*', []);
    expect(port.released[1]!.ids).toHaveLength(MAX_HELD_LIVE);
    expect(port.overflows).toBe(0);
  });
});
