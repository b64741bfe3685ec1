/**
 * Private messages (SPEC §6 [MSG-10]): `SAY <name> :<text>` reaches that
 * user and no one else, live or through history ([HIST-5]); the sender gets
 * the ECHO; a name that is not online gets NO_SUCH_USER; a message to
 * oneself is delivered once, as the ECHO; seq counts per conversation.
 *
 * Runs against our server or, with CHAT_SERVER, any server: every name is
 * fresh, so every conversation here is new, and only lines that carry this
 * test's names or texts are looked at.
 */
import { describe, expect, it } from 'vitest';
import type { Received } from '../support/line-client.ts';
import { expectErr, repliesOf, settle, useServer } from '../support/suite.ts';
import { chatOf, checkIncreasing, exchange, history, historySince, sayAll, sayOne, withText, type Chat } from '../support/chat.ts';

// Flood control off: a few tests pipeline more lines than a burst.
const suite = useServer(['--flood-rate', '0']);

const privateTo = (name: string | undefined) => (m: Received) => (m.command === 'MSG' || m.command === 'ECHO') && m.params[4] === name;
const marker = () => `pm-${Math.random().toString(36).slice(2, 10)}`;

describe('[MSG-10] delivery', () => {
  it('[MSG-10] [MSG-3] [MSG-2] a private message reaches its recipient once, with <to> its name; the sender gets the ECHO with the same parameters; no third client sees it', async () => {
    const [a, b, c] = await suite.users(3);
    await settle(b!, c!);
    const secret = marker();
    const texts = [`${secret} plain`, `${secret} :colon  spaces `, `${secret} 😀 tab\there`];
    const echoes = await sayAll(a!, b!.name, texts);
    for (const e of echoes) expect([e.from, e.to, e.kind]).toEqual([a!.name, b!.name, 'say']);
    expect(new Set(echoes.map((e) => e.id)).size).toBe(texts.length);

    const got = (await b!.barrier()).filter(withText(secret));
    expect(got.map((m) => [m.command, ...m.params])).toEqual(echoes.map((e) => ['MSG', ...e.params]));
    expect((await c!.barrier()).filter(withText(secret))).toEqual([]);
    expect((await a!.barrier()).filter(withText(secret)), 'a second ECHO or a MSG to the sender').toEqual([]);
  });

  it('[MSG-10] [NAME-2] the recipient may be named in any case; <to> is its name as it chose it', async () => {
    const [a, b] = await suite.users(2, 'Pm');
    const echo = await sayOne(a!, b!.name!.toUpperCase(), 'shouted name');
    expect(echo.to).toBe(b!.name);
    const msg = await b!.expect((m) => m.command === 'MSG' && m.params[0] === echo.id);
    expect(msg.params).toEqual([...echo.params]);
  });

  it('[MSG-10] a message to one\'s own name is acknowledged and delivered once, as the ECHO', async () => {
    const [a, b] = await suite.users(2);
    await settle(b!);
    const text = `${marker()} note to self`;
    const got = await exchange(a!, `SAY ${a!.name} :${text}`, `ME ${a!.name!.toUpperCase()} :${text}`);
    const mine = got.filter(withText(text));
    expect(mine.map((m) => [m.command, m.params[3], m.params[4], m.params[5]])).toEqual([
      ['ECHO', a!.name, a!.name, 'say'],
      ['ECHO', a!.name, a!.name, 'me'],
    ]);
    expect((await b!.barrier()).filter(withText(text))).toEqual([]);
    // It is a conversation of its own, in history too.
    const kept = await history(a!, a!.name!, 'LATEST 10');
    expect(kept.map((h) => h.params)).toEqual(mine.map((m) => m.params));
  });

  it('[MSG-9] [MSG-10] ME <name> :<action> is a private action: kind me, to the recipient only', async () => {
    const [a, b, c] = await suite.users(3);
    await settle(c!);
    const echo = await sayOne(a!, b!.name, `${marker()} winks`, 'ME');
    expect([echo.to, echo.kind]).toEqual([b!.name, 'me']);
    expect((await b!.expect((m) => m.command === 'MSG' && m.params[0] === echo.id)).params).toEqual([...echo.params]);
    expect((await c!.barrier()).filter((m) => m.params[0] === echo.id)).toEqual([]);
  });
});

describe('[MSG-10] errors', () => {
  it('[MSG-1] [MSG-10] a private message to a name that is not online gets ERR NO_SUCH_USER: never registered, gone, or renamed away', async () => {
    const [a, b, c] = await suite.users(3);
    const ghost = suite.name('ghost');
    b!.send('QUIT');
    await b!.untilClosed();
    const oldC = c!.name!;
    const renamed = suite.name('ren');
    await exchange(c!, `NICK ${renamed}`);
    const replies = repliesOf(a!, await exchange(a!, `SAY ${ghost} :hello?`, `ME ${ghost} :waves`, `SAY ${b!.name} :still there?`, `SAY ${oldC} :old name`));
    expect(replies.map((m) => `${m.command} ${m.params[0]} ${m.params[1]}`)).toEqual([
      'ERR NO_SUCH_USER SAY',
      'ERR NO_SUCH_USER ME',
      'ERR NO_SUCH_USER SAY',
      'ERR NO_SUCH_USER SAY',
    ]);
    for (const r of replies) expectErr(r, 'NO_SUCH_USER');
    // The new name works.
    expect((await sayOne(a!, renamed, 'new name')).to).toBe(renamed);
  });

  it('[MSG-1] a private message with an empty text gets ERR BAD_PARAMS SAY and reaches no one', async () => {
    const [a, b] = await suite.users(2);
    await settle(b!);
    const replies = repliesOf(a!, await exchange(a!, `SAY ${b!.name} :`, `ME ${b!.name} :`));
    expect(replies.map((m) => `${m.params[0]} ${m.params[1]}`)).toEqual(['BAD_PARAMS SAY', 'BAD_PARAMS ME']);
    expect((await b!.barrier()).filter(privateTo(b!.name))).toEqual([]);
  });
});

describe('[MSG-5] sequence per conversation', () => {
  it('[MSG-5] [MSG-7] both directions of a conversation share one sequence, which no other conversation or room moves; one sender\'s messages arrive in the order sent', async () => {
    const [a, b, c] = await suite.users(3);
    await settle(b!, c!);
    const fromA = (m: Received) => m.command === 'MSG' && m.params[3] === a!.name && m.params[4] === b!.name;
    const ab1 = await sayAll(a!, b!.name, ['ab1', 'ab2', 'ab3']);
    // b reads what a sent before b sends (its sayAll would consume them).
    const atB = (await b!.barrier()).filter(fromA).map(chatOf);
    const ba = await sayAll(b!, a!.name, ['ba1', 'ba2']);
    const ac1 = await sayAll(a!, c!.name, ['ac1']);
    const ab2 = await sayAll(a!, b!.name, ['ab4']);
    // Traffic elsewhere: the lobby (when there is one), and another pair.
    if (suite.info.lobby !== undefined) await sayAll(a!, undefined, ['lobby noise']);
    await sayAll(c!, b!.name, ['cb1', 'cb2', 'cb3']);
    const ac2 = await sayAll(c!, a!.name, ['ca1']);
    atB.push(...(await b!.barrier()).filter(fromA).map(chatOf));

    checkIncreasing([...ab1, ...ba, ...ab2].map((m) => m.seq), suite.own, 'a-b conversation');
    checkIncreasing([...ac1, ...ac2].map((m) => m.seq), suite.own, 'a-c conversation');
    // The recipient sees a's messages in the order sent, with the parameters of their ECHOs.
    expect(atB.map((m) => m.text)).toEqual(['ab1', 'ab2', 'ab3', 'ab4']);
    expect(atB.map((m) => m.params)).toEqual([...ab1, ...ab2].map((m) => m.params));
    const both = await history(a!, b!.name!, 'LATEST 20');
    expect(both.map((h) => h.text)).toEqual(['ab1', 'ab2', 'ab3', 'ba1', 'ba2', 'ab4']);
    expect(await history(b!, a!.name!, 'LATEST 20')).toEqual(both);
  });

  it('[MSG-5] [MSG-7] 100 private messages pipelined both ways at once: each end sees one gap-free order, the same on both sides, each sender\'s in the order sent', async () => {
    const [a, b] = await suite.users(2);
    await settle(a!, b!);
    const N = 50;
    const isOurs = (m: Received) => (m.command === 'MSG' || m.command === 'ECHO') && [a!.name, b!.name].includes(m.params[3]) && [a!.name, b!.name].includes(m.params[4]);
    const collect = async (client: typeof a) => {
      const got: Chat[] = [];
      await client!.expect((m) => {
        if (isOurs(m)) got.push(chatOf(m));
        return got.length === 2 * N;
      }, 20_000);
      return got;
    };
    const receiving = [collect(a), collect(b)];
    a!.write(Array.from({ length: N }, (_, i) => `SAY ${b!.name} :a${i}\n`).join(''));
    b!.write(Array.from({ length: N }, (_, i) => `SAY ${a!.name} :b${i}\n`).join(''));
    const [atA, atB] = await Promise.all(receiving);
    for (const [who, got] of [
      ['a', atA!],
      ['b', atB!],
    ] as const) {
      checkIncreasing(got.map((m) => m.seq), suite.own, `conversation as ${who} sees it`);
      expect(got.filter((m) => m.from === a!.name).map((m) => m.text)).toEqual(Array.from({ length: N }, (_, i) => `a${i}`));
      expect(got.filter((m) => m.from === b!.name).map((m) => m.text)).toEqual(Array.from({ length: N }, (_, i) => `b${i}`));
    }
    expect(atA!.map((m) => [m.id, m.seq, m.text])).toEqual(atB!.map((m) => [m.id, m.seq, m.text]));
  });
});

describe('[HIST-5] private history', () => {
  it('[HIST-5] [MSG-10] a third client never sees a private message: not live, not in HISTORY *, not in HISTORY <sender> or <recipient>', async () => {
    const [a, b, c] = await suite.users(3);
    await settle(b!, c!);
    const secret = marker();
    const sent = await sayAll(a!, b!.name, [`${secret} one`, `${secret} two`]);
    const reply = await sayOne(b!, a!.name, `${secret} three`);
    expect((await c!.barrier()).filter(withText(secret))).toEqual([]);

    const limit = suite.info.histLimit;
    const star = await history(c!, '*', `LATEST ${limit}`);
    expect(star.filter((h) => h.text.includes(secret))).toEqual([]);
    expect(await history(c!, a!.name!, `LATEST ${limit}`)).toEqual([]);
    expect(await history(c!, b!.name!, `LATEST ${limit}`)).toEqual([]);
    // Paging with the ids (which a client may have seen in a shared room) shows nothing either.
    expect((await historySince(c!, '*', sent[0]!.id, limit)).filter((h) => h.text.includes(secret))).toEqual([]);

    // The two parties see it, as HIST with the parameters it was sent with.
    const expected = [...sent, reply].map((m) => m.params);
    expect((await history(a!, b!.name!, 'LATEST 10')).map((h) => h.params)).toEqual(expected);
    expect((await history(b!, a!.name!.toUpperCase(), 'LATEST 10')).map((h) => h.params)).toEqual(expected);
    expect((await history(b!, '*', `LATEST ${limit}`)).filter((h) => h.text.includes(secret)).map((h) => h.params)).toEqual(expected);
  });

  it('[HIST-5] HISTORY <name> works when that user is offline', async () => {
    const [a, b] = await suite.users(2);
    const text = `${marker()} left behind`;
    const sent = await sayOne(b!, a!.name, text);
    const bName = b!.name!;
    b!.send('QUIT');
    await b!.untilClosed();
    expect((await history(a!, bName, 'LATEST 5')).map((h) => h.params)).toEqual([sent.params]);
  });
});
