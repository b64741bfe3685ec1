import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ProtocolError, isErrorCode, isFatal } from '../../../src/protocol/errors.ts';
import type { ErrorCode } from '../../../src/protocol/errors.ts';

/** The `| code | fatal | sent when |` table of SPEC.md §13 Errors, read from the spec itself. */
function specErrorTable(): Map<string, boolean> {
  const spec = readFileSync(new URL('../../../SPEC.md', import.meta.url), 'utf8');
  const start = spec.search(/^## \d+\. Errors$/m);
  expect(start, 'SPEC.md has an Errors section').toBeGreaterThan(0);
  const end = spec.indexOf('\n## ', start + 1);
  const section = spec.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, boolean>();
  for (const match of section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (yes|no) \|/gm)) {
    rows.set(match[1]!, match[2] === 'yes');
  }
  return rows;
}

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('ERRORS', () => {
  it('[ERR-1] holds exactly the stable codes of SPEC §13', () => {
    const table = specErrorTable();
    expect(table.size).toBeGreaterThanOrEqual(11);
    expect([...codes].sort()).toEqual([...table.keys()].sort());
  });

  it('[ERR-1] marks as fatal exactly the codes SPEC §13 marks fatal', () => {
    const table = specErrorTable();
    for (const code of codes) expect(ERRORS[code].fatal, code).toBe(table.get(code));
    // The codes the framer and parser produce: only an overflow ends the connection.
    expect(isFatal('INPUT_OVERFLOW')).toBe(true);
    for (const code of ['LINE_TOO_LONG', 'BAD_UTF8', 'BAD_CHAR', 'UNKNOWN_COMMAND'] as const) expect(isFatal(code)).toBe(false);
  });

  it('[ERR-1] codes are single middle parameters and every code has a text for people', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(typeof ERRORS[code].text).toBe('string');
      expect(ERRORS[code].text.length).toBeGreaterThan(0);
      expect(ERRORS[code].text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });
});

describe('isErrorCode', () => {
  it('[ERR-1] recognises every registered code', () => {
    for (const code of codes) expect(isErrorCode(code)).toBe(true);
  });

  it('rejects unknown codes, other cases and inherited property names', () => {
    for (const s of ['', '*', 'bad_utf8', 'NO_SUCH_CODE', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(isErrorCode(s), s).toBe(false);
    }
  });
});

describe('ProtocolError', () => {
  it('carries the code, the command and the fatal flag of the registry', () => {
    const e = new ProtocolError('INPUT_OVERFLOW', '*');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ProtocolError');
    expect(e.code).toBe('INPUT_OVERFLOW');
    expect(e.command).toBe('*');
    expect(e.fatal).toBe(true);
    expect(new ProtocolError('BAD_NAME', 'NICK').fatal).toBe(false);
  });

  it('uses the registry text unless given a detail', () => {
    expect(new ProtocolError('BAD_PARAMS', 'SAY').message).toBe(ERRORS.BAD_PARAMS.text);
    expect(new ProtocolError('BAD_PARAMS', 'SAY', 'custom').message).toBe('custom');
  });

  it('keeps a cause', () => {
    const cause = new Error('root');
    expect(new ProtocolError('BAD_UTF8', '*', undefined, { cause }).cause).toBe(cause);
  });

  it('has a fatal getter that agrees with isFatal for every code', () => {
    for (const code of codes) expect(new ProtocolError(code, 'X').fatal).toBe(isFatal(code));
  });
});
