import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCoverage, findIds, formatReport, parseSpec, type SourceFile } from '../../../scripts/spec-rules.ts';

/**
 * Ids in this file are written with ⟦ ⟧ and turned into square brackets at run time, so
 * that the traceability check, which scans test files, does not take these
 * made-up ids for tests of SPEC rules.
 */
const b = (text: string) => text.replace(/⟦/g, '[').replace(/⟧/g, ']');

const SAMPLE = b(`# A protocol

The key words MUST, MUST NOT and SHALL are to be read as in RFC 2119.
Every rule carries an id such as \`⟦A-1⟧\`.

## 1. First

- \`⟦A-1⟧\` A sender MUST end lines with LF.
- \`⟦A-2⟧\` Words are case-insensitive. A receiver SHOULD compare them
  without regard to case.
- \`⟦A-3⟧\` A receiver MAY ignore this, but it
  MUST NOT crash (see \`⟦A-1⟧\`).

  | reason | meaning |
  |---|---|
  | x | y |

  Clients SHALL accept unknown reasons.

A paragraph after the list that says MUST is not part of ⟦A-3⟧.

\`\`\`
- \`⟦Z-9⟧\` inside a code block is neither a rule nor a reference
\`\`\`

## 2. Second

- \`⟦B-1⟧\` (retired) Used to say MUST.
- \`⟦B-2⟧\` Support is REQUIRED.
- \`⟦B-3⟧\` Nothing normative here.
`);

describe('parseSpec', () => {
  const spec = parseSpec(SAMPLE);
  const rule = (id: string) => spec.rules.find((r) => r.id === id)!;

  it('finds each rule defined by a list item, in order, with its section and line', () => {
    expect(spec.rules.map((r) => r.id)).toEqual(['A-1', 'A-2', 'A-3', 'B-1', 'B-2', 'B-3']);
    expect(rule('A-1')).toMatchObject({ section: '1. First', line: 8 });
    expect(rule('B-2')).toMatchObject({ section: '2. Second' });
  });

  it('classifies MUST, MUST NOT, SHALL and REQUIRED as MUST rules, and SHOULD/MAY/nothing as other', () => {
    expect(rule('A-1').must).toBe(true);
    expect(rule('A-2').must).toBe(false);
    expect(rule('B-2').must).toBe(true);
    expect(rule('B-3').must).toBe(false);
  });

  it('keeps continuation lines, an indented table and an indented paragraph in the rule text', () => {
    expect(rule('A-3').must).toBe(true);
    expect(rule('A-3').text).toContain('| x | y |');
    expect(rule('A-3').text).toContain('Clients SHALL accept');
    expect(rule('A-3').text).not.toContain('A paragraph after the list');
  });

  it('does not let an unindented paragraph after the list make the last rule a MUST rule', () => {
    const spec2 = parseSpec(b('- `⟦C-1⟧` Plain text.\n\nThis paragraph MUST not count.\n'));
    expect(spec2.rules).toHaveLength(1);
    expect(spec2.rules[0]!.must).toBe(false);
  });

  it('marks retired rules', () => {
    expect(rule('B-1').retired).toBe(true);
    expect(rule('A-1').retired).toBe(false);
  });

  it('ignores ids in fenced code blocks', () => {
    expect(spec.rules.some((r) => r.id === 'Z-9')).toBe(false);
    expect(spec.problems).toEqual([]);
  });

  it('reports duplicate definitions and references to undefined ids', () => {
    const bad = parseSpec(b('- `⟦A-1⟧` MUST.\n- `⟦A-1⟧` MUST again, unlike ⟦A-7⟧.\n'));
    expect(bad.problems).toHaveLength(2);
    expect(bad.problems[0]).toMatch(/A-1 is defined twice/);
    expect(bad.problems[1]).toMatch(/A-7/);
  });

  it('accepts CR LF line ends and an id without backticks', () => {
    const crlf = parseSpec(b('## S\r\n\r\n- ⟦D-1⟧ It MUST work.\r\n- ⟦D-2⟧ It may.\r\n'));
    expect(crlf.rules.map((r) => [r.id, r.must])).toEqual([
      ['D-1', true],
      ['D-2', false],
    ]);
  });

  it('parses the real SPEC.md without problems and finds its MUST rules', () => {
    const real = parseSpec(readFileSync(new URL('../../../SPEC.md', import.meta.url), 'utf8'));
    expect(real.problems).toEqual([]);
    const ids = real.rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('FRAME-1');
    expect(real.rules.find((r) => r.id === 'FRAME-1')!.must).toBe(true);
    // Not every rule is absolute: SHOULD and MAY rules exist and are not required to be tested.
    expect(real.rules.some((r) => !r.must)).toBe(true);
    expect(real.rules.filter((r) => r.must).length).toBeGreaterThan(real.rules.length / 2);
  });
});

describe('findIds', () => {
  it('finds every bracketed id with its line, and nothing else in brackets', () => {
    expect(findIds(b("it('⟦A-1⟧ ⟦B-22⟧ x', () => {});\n/[A-Z]+/ [a-1] [A1] [A-]\n// ⟦C-3⟧"))).toEqual([
      { id: 'A-1', line: 1 },
      { id: 'B-22', line: 1 },
      { id: 'C-3', line: 3 },
    ]);
  });
});

describe('checkCoverage', () => {
  const spec = parseSpec(SAMPLE);
  const source = (path: string, text: string, counts = true): SourceFile => ({ path, text: b(text), counts });

  it('is ok when every MUST rule is named by a test', () => {
    const report = checkCoverage(spec, [
      source('test/a.test.ts', "it('⟦A-1⟧ ends lines', () => {});\nit('⟦A-3⟧ does not crash', () => {});"),
      source('test/vectors/b.json', '[{"rule": "⟦B-2⟧"}]'),
    ]);
    expect(report.ok).toBe(true);
    expect(report.uncovered).toEqual([]);
    expect(report.rows.find((r) => r.rule.id === 'A-1')).toMatchObject({ mentions: 1, files: ['test/a.test.ts'] });
  });

  it('lists MUST rules no test names, but not other or retired rules', () => {
    const report = checkCoverage(spec, [source('test/a.test.ts', "it('⟦A-1⟧', () => {});")]);
    expect(report.ok).toBe(false);
    expect(report.uncovered.map((r) => r.id)).toEqual(['A-3', 'B-2']);
  });

  it('does not count a mention in a support file, but still checks that it exists', () => {
    const report = checkCoverage(spec, [
      source('test/a.test.ts', '⟦A-1⟧ ⟦A-3⟧ ⟦B-2⟧'),
      source('test/support/x.ts', '// see ⟦A-2⟧ and ⟦Q-1⟧', false),
    ]);
    expect(report.rows.find((r) => r.rule.id === 'A-2')!.mentions).toBe(0);
    expect(report.unknown).toEqual([{ id: 'Q-1', path: 'test/support/x.ts', line: 1, why: 'undefined' }]);
    expect(report.ok).toBe(false);
  });

  it('fails when a test names an id SPEC.md does not define, or a retired one', () => {
    const report = checkCoverage(spec, [source('test/a.test.ts', '⟦A-1⟧ ⟦A-3⟧ ⟦B-2⟧\n⟦A-9⟧\n⟦B-1⟧')]);
    expect(report.unknown).toEqual([
      { id: 'A-9', path: 'test/a.test.ts', line: 2, why: 'undefined' },
      { id: 'B-1', path: 'test/a.test.ts', line: 3, why: 'retired' },
    ]);
    expect(report.ok).toBe(false);
  });

  it('fails when SPEC.md itself has problems', () => {
    const bad = parseSpec(b('- `⟦A-1⟧` MUST.\n- `⟦A-1⟧` MUST.\n'));
    expect(checkCoverage(bad, [source('t.test.ts', '⟦A-1⟧')]).ok).toBe(false);
  });

  it('formats a table with one row per rule and a verdict', () => {
    const text = formatReport(checkCoverage(spec, [source('test/a.test.ts', '⟦A-1⟧ ⟦A-9⟧')]));
    expect(text).toMatch(/^\[A-1\]\s+MUST\s+covered\s+1\s+a$/m);
    expect(text).toMatch(/^\[A-3\]\s+MUST\s+UNCOVERED\s+0$/m);
    expect(text).toMatch(/^\[A-2\]\s+other\s+untested\s+0$/m);
    expect(text).toMatch(/^\[B-1\]\s+-\s+retired/m);
    expect(text).toContain(b('UNCOVERED  ⟦A-3⟧'));
    expect(text).toContain(b('UNKNOWN    test/a.test.ts:1 names ⟦A-9⟧'));
    expect(text).toMatch(/FAILED/);
  });
});
