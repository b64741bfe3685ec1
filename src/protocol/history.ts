/**
 * HISTORY selectors (SPEC §7, [HIST-2]): how a page of history is asked for,
 * modelled on IRCv3 chathistory. Pure, and shared by the server that reads
 * them and the client that writes them.
 *
 *   HISTORY <target> LATEST <limit>
 *   HISTORY <target> BEFORE <ref> <limit>
 *   HISTORY <target> AFTER <ref> <limit>
 *   HISTORY <target> BETWEEN <ref> <ref> <limit>
 *
 * A `<ref>` is `id=<message id>` or `time=<ms since the epoch>`.
 */
import { isToken } from './names.ts';

export type HistoryRef = { readonly by: 'id'; readonly id: string } | { readonly by: 'time'; readonly time: number };

export type HistoryQuery =
  | { readonly kind: 'latest'; readonly limit: number }
  | { readonly kind: 'before'; readonly ref: HistoryRef; readonly limit: number }
  | { readonly kind: 'after'; readonly ref: HistoryRef; readonly limit: number }
  | { readonly kind: 'between'; readonly from: HistoryRef; readonly to: HistoryRef; readonly limit: number };

export type HistoryKind = HistoryQuery['kind'];

/** Parameters after `<target>` that each selector takes. */
const ARITY: Readonly<Record<HistoryKind, number>> = { latest: 1, before: 2, after: 2, between: 3 };

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

export function parseRef(text: string): HistoryRef | undefined {
  if (text.startsWith('id=')) {
    const id = text.slice(3);
    return isToken(id) ? { by: 'id', id } : undefined;
  }
  if (text.startsWith('time=')) {
    const digits = text.slice(5);
    const time = Number(digits);
    return DECIMAL.test(digits) && Number.isSafeInteger(time) ? { by: 'time', time } : undefined;
  }
  return undefined;
}

export function formatRef(ref: HistoryRef): string {
  return ref.by === 'id' ? `id=${ref.id}` : `time=${ref.time}`;
}

/**
 * Reads the parameters after `<target>` (`LATEST 50`, `BEFORE id=x 50`, ...).
 * Returns the query, or a sentence saying what is wrong with them.
 */
export function parseHistoryQuery(params: readonly string[], maxLimit: number): HistoryQuery | string {
  const usage = 'Usage: HISTORY <target> LATEST|BEFORE|AFTER|BETWEEN [<ref> [<ref>]] <limit>';
  const kind = params[0]?.toLowerCase() as HistoryKind | undefined;
  if (kind === undefined || !Object.hasOwn(ARITY, kind)) return usage;
  if (params.length !== 1 + ARITY[kind]) return usage;
  const limitText = params[params.length - 1]!;
  const limit = Number(limitText);
  if (!DECIMAL.test(limitText) || limit < 1 || limit > maxLimit) return `The limit is a whole number from 1 to ${maxLimit}`;
  const refs: HistoryRef[] = [];
  for (const text of params.slice(1, -1)) {
    const ref = parseRef(text);
    if (ref === undefined) return `A reference is id=<message id> or time=<ms since 1970>, got ${JSON.stringify(text)}`;
    refs.push(ref);
  }
  switch (kind) {
    case 'latest':
      return { kind, limit };
    case 'before':
    case 'after':
      return { kind, ref: refs[0]!, limit };
    case 'between':
      return { kind, from: refs[0]!, to: refs[1]!, limit };
  }
}

/** The parameters after `<target>` for `query`: the inverse of parseHistoryQuery. */
export function historyQueryParams(query: HistoryQuery): string[] {
  const word = query.kind.toUpperCase();
  switch (query.kind) {
    case 'latest':
      return [word, String(query.limit)];
    case 'before':
    case 'after':
      return [word, formatRef(query.ref), String(query.limit)];
    case 'between':
      return [word, formatRef(query.from), formatRef(query.to), String(query.limit)];
  }
}
