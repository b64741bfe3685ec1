/**
 * Reading a V8 CPU profile (`node --cpu-prof`): self time per function, the
 * top frames first. Pure; the input is the parsed .cpuprofile JSON.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface Frame {
  readonly name: string;
  /** Share of all samples spent in this function itself. */
  readonly selfPercent: number;
}

/** Where a frame lives, short: `src/server/transport.ts:120`, `node:net`, or V8's own `(garbage collector)`. */
function where(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (url === '') return '';
  const src = url.indexOf('/src/');
  const path = src !== -1 ? url.slice(src + 1) : url.replace(/^file:\/\/.*\/node_modules\//, '');
  // tsx's transformed modules report line 0 for every function.
  return frame.lineNumber > 0 ? `${path}:${frame.lineNumber + 1}` : path;
}

export function selfTimes(profile: CpuProfile): Frame[] {
  const hits = new Map<number, number>();
  if (profile.samples !== undefined) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  let total = 0;
  const byName = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    total += n;
    const place = where(node.callFrame);
    const name = `${node.callFrame.functionName || '(anonymous)'}${place === '' ? '' : ` ${place}`}`;
    byName.set(name, (byName.get(name) ?? 0) + n);
  }
  return [...byName]
    .map(([name, n]) => ({ name, selfPercent: total === 0 ? 0 : (100 * n) / total }))
    .sort((a, b) => b.selfPercent - a.selfPercent);
}

/** The `count` functions with the most self time, as a markdown table. */
export function topFrames(profile: CpuProfile, count: number): string {
  const frames = selfTimes(profile).slice(0, count);
  return ['| self % | function |', '|---:|---|', ...frames.map((f) => `| ${f.selfPercent.toFixed(1)} | \`${f.name}\` |`)].join('\n');
}
