import { describe, expect, it } from 'vitest';
import { selfTimes, topFrames, type CpuProfile } from '../../../bench/fanout/profile.ts';

type ProfileNode = CpuProfile['nodes'][number];

const node = (id: number, functionName: string, url: string, lineNumber: number, hitCount?: number): ProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber },
  ...(hitCount === undefined ? {} : { hitCount }),
});

const TRANSPORT = 'file:///home/dev/linechat/src/server/transport.ts';

/** The nodes of a small profile; `hits` gives each node's hitCount. */
function nodes(hits: readonly number[] | undefined): ProfileNode[] {
  const h = (i: number) => hits?.[i];
  return [
    node(1, '(root)', '', -1, h(0)),
    // Two nodes of one function (two call paths), a line number V8 counts from 0.
    node(2, 'onRead', TRANSPORT, 119, h(1)),
    node(3, '', 'node:net', 0, h(2)),
    node(4, '(garbage collector)', '', -1, h(3)),
    node(5, 'onRead', TRANSPORT, 119, h(4)),
    node(6, 'check', 'file:///home/dev/linechat/node_modules/fast-check/lib/check.js', 4, h(5)),
    // tsx reports line 0 for every function: no line then.
    node(7, 'framer', 'file:///home/dev/linechat/src/protocol/framer.ts', 0, h(6)),
  ];
}

/** Node 2 ×4 and node 5 ×1 (onRead 5), node 3 ×2, node 4 ×2, node 6 ×1; 10 samples. */
const SAMPLES = [2, 2, 3, 4, 2, 5, 6, 4, 2, 3];

const EXPECTED = [
  { name: 'onRead src/server/transport.ts:120', selfPercent: 50 },
  { name: '(anonymous) node:net', selfPercent: 20 },
  { name: '(garbage collector)', selfPercent: 20 },
  { name: 'check fast-check/lib/check.js:5', selfPercent: 10 },
];

describe('selfTimes', () => {
  it('counts samples per node, sums them per function, and sorts by self time', () => {
    expect(selfTimes({ nodes: nodes(undefined), samples: SAMPLES, timeDeltas: SAMPLES.map(() => 1000) })).toEqual(EXPECTED);
  });

  it('uses hitCount when there are no samples', () => {
    expect(selfTimes({ nodes: nodes([0, 4, 2, 2, 1, 1, 0]) })).toEqual(EXPECTED);
  });

  it('prefers samples to hitCount when a profile has both', () => {
    expect(selfTimes({ nodes: nodes([0, 0, 0, 0, 0, 0, 10]), samples: SAMPLES })).toEqual(EXPECTED);
  });

  it('names a function with a tsx-transformed file without a line number', () => {
    expect(selfTimes({ nodes: nodes([0, 0, 0, 0, 0, 0, 3]) })).toEqual([{ name: 'framer src/protocol/framer.ts', selfPercent: 100 }]);
  });

  it('leaves out functions without samples, and gives [] for an empty profile', () => {
    const frames = selfTimes({ nodes: nodes(undefined), samples: [4] });
    expect(frames).toEqual([{ name: '(garbage collector)', selfPercent: 100 }]);
    expect(selfTimes({ nodes: nodes(undefined), samples: [] })).toEqual([]);
    expect(selfTimes({ nodes: [] })).toEqual([]);
    expect(selfTimes({ nodes: nodes(undefined) })).toEqual([]);
  });

  it('gives shares that add up to 100', () => {
    const frames = selfTimes({ nodes: nodes([3, 1, 4, 1, 5, 9, 2]) });
    expect(frames.reduce((t, f) => t + f.selfPercent, 0)).toBeCloseTo(100, 10);
    for (let i = 1; i < frames.length; i++) expect(frames[i - 1]!.selfPercent).toBeGreaterThanOrEqual(frames[i]!.selfPercent);
  });
});

describe('topFrames', () => {
  it('renders the top functions as a markdown table, one decimal', () => {
    expect(topFrames({ nodes: nodes(undefined), samples: SAMPLES }, 2)).toBe(
      ['| self % | function |', '|---:|---|', '| 50.0 | `onRead src/server/transport.ts:120` |', '| 20.0 | `(anonymous) node:net` |'].join('\n'),
    );
  });

  it('lists every function when asked for more than there are', () => {
    const table = topFrames({ nodes: nodes([0, 1, 0, 0, 0, 0, 2]) }, 15).split('\n');
    expect(table).toEqual(['| self % | function |', '|---:|---|', '| 66.7 | `framer src/protocol/framer.ts` |', '| 33.3 | `onRead src/server/transport.ts:120` |']);
  });

  it('is only the header for an empty profile', () => {
    expect(topFrames({ nodes: [] }, 5)).toBe('| self % | function |\n|---:|---|');
  });
});
