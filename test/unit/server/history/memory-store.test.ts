import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../../src/server/history/memory-store.ts';
import { privateKey } from '../../../../src/server/history/store.ts';
import { describeStoreContract, draft } from './store-contract.ts';

describeStoreContract('MemoryStore', ({ perTarget }) => new MemoryStore({ perTarget, total: 10_000_000, idPrefix: 'mem-' }));

describe('MemoryStore bounds', () => {
  it('keeps at most `total` messages in all, dropping the oldest whatever their target [HIST-1]', () => {
    const store = new MemoryStore({ perTarget: 100, total: 10, idPrefix: 'm' });
    const all = Array.from({ length: 25 }, (_, i) => store.append(draft(i % 3 === 0 ? '#a' : '#b')));
    expect(store.size).toBe(10);
    const kept = store.page(['#a', '#b'], { kind: 'latest', limit: 100 });
    expect(kept).toEqual(all.slice(-10));
    const keptInA = all.slice(-10).filter((m) => m.target === '#a');
    expect(store.page(['#a'], { kind: 'after', bound: { by: 'num', num: 0 }, limit: 100 })).toEqual(keptInA);
  });

  it('forgets a target that loses every message: its conversations, and its seq, which starts again at 1 [MSG-5]', () => {
    const store = new MemoryStore({ perTarget: 100, total: 3, idPrefix: 'm' });
    const dm = privateKey('alice', 'bob');
    store.append(draft(dm));
    expect(store.append(draft(dm)).seq).toBe(2);
    expect(store.conversationsOf('alice')).toEqual([dm]);
    for (let i = 0; i < 3; i++) store.append(draft('#a'));
    expect(store.page([dm], { kind: 'latest', limit: 10 })).toEqual([]);
    expect(store.conversationsOf('alice')).toEqual([]);
    expect(store.conversationsOf('bob')).toEqual([]);
    const again = store.append(draft(dm));
    expect(again.seq).toBe(1);
    expect(again.num).toBe(6);
    expect(store.conversationsOf('bob')).toEqual([dm]);
  });

  it('keeps the newest `total` through many prunings by both bounds across targets', () => {
    const store = new MemoryStore({ perTarget: 7, total: 50, idPrefix: 'm' });
    for (let i = 0; i < 20_000; i++) store.append(draft(`#r${i % 13}`));
    expect(store.size).toBe(50);
    const kept = store.page(Array.from({ length: 13 }, (_, i) => `#r${i}`), { kind: 'latest', limit: 100 });
    expect(kept.map((m) => m.num)).toEqual(Array.from({ length: 50 }, (_, i) => 20_000 - 49 + i));
  });
});
