/**
 * Storage (SPEC §8) through the real server process with `--db`: history,
 * rooms and topics survive a restart, graceful or SIGKILL ([STORE-2],
 * [ROOM-6]); no acknowledged message is lost when the process is killed
 * mid-stream ([STORE-1]); ids are never issued again and seq goes on
 * ([MSG-4], [MSG-5]); a database that cannot be used stops the server at
 * start with one line naming the file ([STORE-4]).
 *
 * Every test starts its own servers on a database in a fresh temporary
 * directory, which it removes afterwards; all of it is skipped in
 * conformance mode (CHAT_SERVER), which cannot restart a server.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LineClient } from '../support/line-client.ts';
import { Signal, useOwnServers, user } from '../support/own-server.ts';
import { runServerCli, type ServerProcess } from '../support/server-process.ts';
import { joinRoom, settle } from '../support/suite.ts';
import { EXTERNAL_SERVER, itOwnServer } from '../support/target.ts';
import { checkIncreasing, exchange, history, historySince, infoOf, part, rooms, sayAll, sayOne, topicOf, type Chat } from '../support/chat.ts';

const own = useOwnServers();

/** A fresh directory for this test's database, removed after the test (after its servers stopped). */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'linechat-persist-'));
  own.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stops the server by `signal`: SIGTERM is a graceful shutdown (exit 0), SIGKILL gives it no chance at all. */
async function stopBy(server: ServerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (signal === 'SIGTERM') {
    expect((await server.stop(10_000)).code).toBe(0);
    return;
  }
  server.child.kill('SIGKILL');
  expect((await server.exited).signal).toBe('SIGKILL');
}

const params = (messages: readonly Chat[]) => messages.map((m) => m.params);
const idsOf = (messages: readonly Chat[]) => messages.map((m) => m.id);

describe('[STORE-2] restarts', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    itOwnServer(`[STORE-2] [ROOM-6] [MSG-4] [MSG-5] [HIST-2] after a restart by ${signal} on the same database, history, rooms and topics are as they were, old ids still work, no id is issued again and seq goes on`, async () => {
      const db = join(tempDir(), 'chat.db');
      const args = ['--db', db, '--flood-rate', '0'];
      const first = await own.start(args);
      const a = await user(first.pool, 'alice');
      const b = await user(first.pool, 'bob');
      const lobby = a.lobby!;
      await joinRoom(a, '#Keep');
      await joinRoom(b, '#keep');
      const topic = (await exchange(a, 'TOPIC #keep :kept:  topic ')).find((m) => m.command === 'TOPIC')!;
      const kept = [...(await sayAll(a, '#keep', ['k0', 'k1 with  spaces', ':k2'])), await sayOne(b, '#KEEP', 'k3')];
      await joinRoom(a, '#quiet');
      const quiet = await sayAll(a, '#quiet', ['q0']);
      await joinRoom(a, '#Titled');
      const titled = (await exchange(a, 'TOPIC #titled :only a topic')).find((m) => m.command === 'TOPIC')!;
      await joinRoom(a, '#bare');
      const pm = [...(await sayAll(a, 'bob', ['p0', 'p1'])), await sayOne(b, 'alice', 'p2')];
      const said = await sayAll(a, undefined, ['in the lobby']);
      const issued = new Set(idsOf([...kept, ...quiet, ...pm, ...said]));

      await stopBy(first.server, signal);
      const second = await own.start(args);
      const c = await user(second.pool, 'carol');
      // Rooms with a topic or history are back, empty, in their creator's case; #bare is not ([ROOM-6]).
      expect(await rooms(c)).toEqual([
        { room: '#Keep', members: 0, topic: 'kept:  topic ' },
        { room: lobby, members: 1, topic: '' },
        { room: '#quiet', members: 0, topic: '' },
        { room: '#Titled', members: 0, topic: 'only a topic' },
      ]);
      expect((await topicOf(c, '#keep')).params).toEqual(topic.params);
      expect((await topicOf(c, '#titled')).params).toEqual(titled.params);
      // The replay and HISTORY give the messages exactly as they were sent.
      const joined = await joinRoom(c, '#keep');
      expect(joined[1]!.params).toEqual(['#Keep', '1', 'kept:  topic ']);
      expect(joined.filter((m) => m.command === 'HIST').map((m) => m.params)).toEqual(params(kept));
      expect(params(await history(c, '#keep', 'LATEST 10'))).toEqual(params(kept));
      expect(params((await history(c, lobby, 'LATEST 10')).filter((m) => m.from === 'alice'))).toEqual(params(said));
      await joinRoom(c, '#quiet');
      expect(params(await history(c, '#quiet', 'LATEST 10'))).toEqual(params(quiet));
      // Private history belongs to the holders of the names, who come back with their keys ([NAME-5], [HIST-5]).
      const alice = await user(second.pool, 'alice', a.key);
      expect(params(await history(alice, 'bob', 'LATEST 10'))).toEqual(params(pm));
      expect(await history(c, 'alice', 'LATEST 10')).toEqual([]);
      // Old ids are still positions ([HIST-2]).
      expect(idsOf(await history(c, '#keep', `AFTER id=${kept[1]!.id} 10`))).toEqual(idsOf(kept.slice(2)));

      // New messages: new ids, and seq goes on in every target ([MSG-4], [MSG-5]).
      const k4 = await sayOne(c, '#keep', 'k4');
      expect(k4.seq).toBe(kept.at(-1)!.seq + 1);
      const bob = await user(second.pool, 'bob', b.key);
      const p3 = await sayOne(alice, 'bob', 'p3');
      expect(p3.seq).toBe(pm.at(-1)!.seq + 1);
      const q1 = await sayOne(c, '#quiet', 'q1');
      expect(q1.seq).toBe(quiet.at(-1)!.seq + 1);
      for (const m of [k4, p3, q1]) expect(issued.has(m.id), `id ${m.id} issued again`).toBe(false);
      expect(new Set([k4.id, p3.id, q1.id]).size).toBe(3);
      expect((await bob.expect((m) => m.command === 'MSG' && m.params[0] === p3.id)).params).toEqual([...p3.params]);
      for (const m of [k4, p3, q1]) expect(m.time).toBeGreaterThanOrEqual(pm.at(-1)!.time);
    });
  }

  itOwnServer('[ROOM-6] [STORE-2] with a database a room that has history or a topic stays, listed with 0 members, when its last member leaves; one with neither disappears', async () => {
    const db = join(tempDir(), 'chat.db');
    const { pool, server } = await own.start(['--db', db]);
    const a = await user(pool, 'host');
    const b = await user(pool, 'guest');
    for (const room of ['#said', '#topical', '#bare']) await joinRoom(a, room);
    const said = await sayOne(a, '#said', 'something');
    await exchange(a, 'TOPIC #topical :a topic');
    for (const room of ['#said', '#topical', '#bare']) await part(a, room);
    const mine = (await rooms(b)).filter((r) => r.room !== a.lobby);
    expect(mine).toEqual([
      { room: '#said', members: 0, topic: '' },
      { room: '#topical', members: 0, topic: 'a topic' },
    ]);
    expect((await joinRoom(b, '#said')).filter((m) => m.command === 'HIST').map((m) => m.params)).toEqual([said.params]);
    // A room keeps its history when its topic is cleared.
    await exchange(b, 'TOPIC #said :for a while');
    await exchange(b, 'TOPIC #said :');
    await part(b, '#said');
    expect((await rooms(b)).find((r) => r.room === '#said')).toEqual({ room: '#said', members: 0, topic: '' });
    await stopBy(server, 'SIGTERM');
    const again = await own.start(['--db', db]);
    const c = await user(again.pool, 'after');
    expect((await rooms(c)).map((r) => r.room)).toEqual(['#lobby', '#said', '#topical']);
  });
});

describe('[ROOM-6] a cleared topic', () => {
  itOwnServer('[ROOM-6] with a database a room whose topic was set and then cleared, with no message, disappears when its last member leaves', async () => {
    const db = join(tempDir(), 'chat.db');
    const { pool } = await own.start(['--db', db]);
    const a = await user(pool, 'host');
    await joinRoom(a, '#cleared');
    await exchange(a, 'TOPIC #cleared :for a while');
    await exchange(a, 'TOPIC #cleared :');
    await part(a, '#cleared');
    expect(await rooms(a)).toEqual([{ room: '#lobby', members: 1, topic: '' }]);
  });
});

describe('[STORE-1] durability', () => {
  itOwnServer(
    '[STORE-1] [STORE-2] [MSG-4] [MSG-5] no acknowledged message is lost when the server is killed (SIGKILL) mid-stream: every ECHOed id is in the history after a restart, with its text',
    async () => {
      const db = join(tempDir(), 'chat.db');
      // Flood control off, so the clients send as fast as the server takes it; keep all history.
      const args = ['--db', db, '--flood-rate', '0', '--history', '0'];
      const { server, pool } = await own.start(args);
      const K = 4;
      /** Lines each writer keeps in flight: it writes more whenever fewer are unacknowledged. */
      const WINDOW = 200;
      const BATCH = 50;
      /** An upper bound on what a writer sends, should the kill never come. */
      const MAX_PER_WRITER = 50_000;
      const KILL_AT = 2000;
      const names = Array.from({ length: K }, (_, i) => `writer${i}`);
      const writers: LineClient[] = [];
      for (const name of names) writers.push(await user(pool, name));
      for (const [i, w] of writers.entries()) {
        await joinRoom(w, '#shared');
        await joinRoom(w, `#own${i}`);
      }
      await settle(...writers);

      // Each writer: a third to the shared room, a third to its own room, a third privately to the next writer.
      const targetOf = (i: number, j: number) => [`#shared`, `#own${i}`, names[(i + 1) % K]!][j % 3]!;
      const echoes = new Map<string, readonly string[]>();
      const acked = writers.map(() => 0);
      const sent = writers.map(() => 0);
      const progress = new Signal();
      let reached!: () => void;
      const enough = new Promise<void>((resolve) => (reached = resolve));
      const reading = writers.map((w, i) =>
        // Never matches: records every ECHO until the connection ends, then rejects, which is expected.
        w
          .expect((m) => {
            if (m.command === 'ECHO') {
              echoes.set(m.params[0]!, m.params);
              acked[i]!++;
              if (echoes.size >= KILL_AT) reached();
              progress.notify();
            }
            return false;
          }, 60_000)
          .catch(() => {})
          .finally(() => progress.notify()),
      );
      // Synchronised on ECHOs, not on time: each writer streams until its connection ends.
      const writing = writers.map(async (w, i) => {
        while (!w.isClosed && sent[i]! < MAX_PER_WRITER) {
          if (sent[i]! - acked[i]! >= WINDOW) {
            await progress.next();
            continue;
          }
          const from = sent[i]!;
          sent[i] = from + BATCH;
          w.write(Array.from({ length: BATCH }, (_, k) => `SAY ${targetOf(i, from + k)} :${names[i]}-${from + k}\n`).join(''));
        }
      });
      await enough;
      server.child.kill('SIGKILL');
      await server.exited;
      await Promise.all(writers.map((w) => w.closed));
      await Promise.all(reading);
      await Promise.all(writing);
      const total = sent.reduce((x, y) => x + y, 0);
      expect(echoes.size).toBeGreaterThanOrEqual(KILL_AT);
      // Mid-stream: the kill came while the writers still had lines unanswered.
      expect(echoes.size).toBeLessThan(total);

      const after = await own.start(args);
      const readers: LineClient[] = [];
      // With their keys, so each reads its private history from before the kill ([NAME-5]).
      for (const [i, name] of names.entries()) readers.push(await user(after.pool, name, writers[i]!.key));
      const limit = infoOf(readers[0]!).histLimit;
      const stored = new Map<string, Chat>();
      const keep = (target: string, messages: Chat[]) => {
        checkIncreasing(
          messages.map((m) => m.seq),
          true,
          `seq in ${target}`,
        );
        expect(messages[0]?.seq ?? 1, `first seq in ${target}`).toBe(1);
        for (const m of messages) {
          expect(stored.has(m.id), `id ${m.id} stored twice`).toBe(false);
          stored.set(m.id, m);
        }
      };
      await joinRoom(readers[0]!, '#shared');
      keep('#shared', await historySince(readers[0]!, '#shared', undefined, limit));
      for (const [i, r] of readers.entries()) {
        await joinRoom(r, `#own${i}`);
        keep(`#own${i}`, await historySince(r, `#own${i}`, undefined, limit));
        keep(`${names[i]} to ${names[(i + 1) % K]}`, await historySince(r, names[(i + 1) % K]!, undefined, limit));
      }
      const lost: string[] = [];
      for (const [id, sent] of echoes) {
        const found = stored.get(id);
        if (found === undefined || JSON.stringify(found.params) !== JSON.stringify(sent)) lost.push(`${id}: ${sent.join(' ')}`);
      }
      expect(lost.slice(0, 10), `${lost.length} of ${echoes.size} acknowledged messages lost or changed`).toEqual([]);
      // Each writer's messages are stored in the order sent, without a hole: a prefix of what it wrote to each target.
      for (const [i, name] of names.entries()) {
        for (const target of [`#shared`, `#own${i}`, names[(i + 1) % K]!]) {
          const texts = [...stored.values()].filter((m) => m.from === name && m.to === target).map((m) => Number(m.text.split('-')[1]));
          const sentThere = Array.from({ length: sent[i]! }, (_, j) => j).filter((j) => targetOf(i, j) === target);
          expect(texts, `${name} to ${target}`).toEqual(sentThere.slice(0, texts.length));
        }
      }

      // After the restart: new ids, and seq goes on.
      const next = await sayOne(readers[0]!, '#shared', 'after the crash');
      expect(stored.has(next.id) || echoes.has(next.id)).toBe(false);
      const shared = [...stored.values()].filter((m) => m.to === '#shared');
      expect(next.seq).toBe(Math.max(0, ...shared.map((m) => m.seq)) + 1);
    },
    60_000,
  );
});

describe('[STORE-4] a database that cannot be used', () => {
  /** Runs `server.ts start --db <path>` to its end and checks the [STORE-4] failure: exit 1, one stderr line naming the file. */
  async function expectRefused(path: string, extra: readonly string[] = []): Promise<string> {
    const run = await runServerCli(['start', '--host', '127.0.0.1', '--port', '0', '--db', path, ...extra], { timeoutMs: 20_000 });
    expect(run.signal, `killed: stderr ${run.stderr}`).toBeNull();
    expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(1);
    expect(run.stdout).not.toMatch(/Server started/);
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines, `stderr: ${run.stderr}`).toHaveLength(1);
    expect(lines[0]).toContain(path);
    return lines[0]!;
  }

  itOwnServer('[STORE-4] a file that is not a database: exit 1, one line on stderr naming the file, and the file is left as it was', async () => {
    const path = join(tempDir(), 'notes.txt');
    const content = 'These are my notes, not a database.\n'.repeat(300);
    writeFileSync(path, content);
    await expectRefused(path);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  itOwnServer('[STORE-4] a damaged database (pages overwritten with garbage): exit 1, one line on stderr naming the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'chat.db');
    // A real database first, with some history, closed cleanly (so it is all in the main file).
    const { server, pool } = await own.start(['--db', path, '--flood-rate', '0']);
    const a = await user(pool, 'writer');
    await joinRoom(a, '#room');
    await sayAll(a, '#room', Array.from({ length: 200 }, (_, i) => `message ${i} ${'x'.repeat(100)}`));
    await stopBy(server, 'SIGTERM');
    expect(existsSync(`${path}-wal`)).toBe(false);
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(4 * 4096);
    // Keep the 100-byte header, so SQLite still takes it for one of its files; garble every page after the first.
    const fd = openSync(path, 'r+');
    try {
      const garbage = Buffer.alloc(size - 4096);
      for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
      writeSync(fd, garbage, 0, garbage.length, 4096);
    } finally {
      closeSync(fd);
    }
    await expectRefused(path);
  });

  itOwnServer('[STORE-4] a database whose schema page is garbled: exit 1, one line on stderr naming the file', async () => {
    const path = join(tempDir(), 'chat.db');
    const { server, pool } = await own.start(['--db', path]);
    await user(pool, 'writer');
    await stopBy(server, 'SIGTERM');
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, Buffer.alloc(3000, 0x5a), 0, 3000, 100);
    } finally {
      closeSync(fd);
    }
    await expectRefused(path);
  });

  itOwnServer('[STORE-4] a database in a directory that does not exist, or a path that is a directory: exit 1, one line on stderr naming it', async () => {
    const dir = tempDir();
    await expectRefused(join(dir, 'no', 'such', 'dir', 'chat.db'));
    expect(existsSync(join(dir, 'no'))).toBe(false);
    await expectRefused(dir);
  });

  itOwnServer('[STORE-4] a database in use by a running server: the second server exits 1 with one line on stderr naming the file; the first goes on', async () => {
    const path = join(tempDir(), 'chat.db');
    const { pool } = await own.start(['--db', path]);
    const a = await user(pool, 'first');
    const line = await expectRefused(path);
    expect(line.toLowerCase()).toMatch(/in use|locked|busy/);
    await joinRoom(a, '#still');
    const m = await sayOne(a, '#still', 'still here');
    expect(m.text).toBe('still here');
  });
});

