/**
 * SPEC traceability, as pure functions: find the numbered rules in SPEC.md,
 * find the rule ids the tests name, and compare the two. The command-line
 * wrapper is scripts/check-spec-coverage.ts.
 *
 * A rule is *defined* by a list item that starts with its id, such as
 * "- `[FRAME-1]` A connection is …". Its text runs on over indented
 * continuation lines (an indented table included) until the next list item,
 * heading, or unindented paragraph. An id anywhere else in SPEC.md is a
 * reference. A rule is a MUST rule when its text uses one of the RFC 2119
 * words of absolute requirement: MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT.
 */

/** `[ABC-12]`: upper-case letters (digits after the first allowed), a dash, a number. */
const ID = /\[([A-Z][A-Z0-9]*-[0-9]+)\]/g;
const DEFINITION = /^([-*+])\s+`?\[([A-Z][A-Z0-9]*-[0-9]+)\]`?(.*)$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const LIST_ITEM = /^[-*+]\s/;
const ABSOLUTE = /\b(MUST|REQUIRED|SHALL)\b/;
/** A rule kept only for its number: "- `[X-3]` (retired) …" or "- `[X-3]` Retired: …". */
const RETIRED = /^\s*[(*_]*\s*retired\b/i;

export interface SpecRule {
  readonly id: string;
  /** The heading the rule sits under, e.g. "1. Transport and framing". */
  readonly section: string;
  /** 1-based line of the definition in SPEC.md. */
  readonly line: number;
  /** The rule's text, its continuation lines joined by newlines, without the id. */
  readonly text: string;
  /** Uses MUST, MUST NOT, REQUIRED, SHALL or SHALL NOT. */
  readonly must: boolean;
  /** Kept only so its number is never reused. */
  readonly retired: boolean;
}

export interface SpecParse {
  readonly rules: readonly SpecRule[];
  /** Defects of SPEC.md itself: duplicate definitions, references to undefined ids. */
  readonly problems: readonly string[];
}

/** Every rule id in `text`, in order of appearance, with its 1-based line. */
export function findIds(text: string): Array<{ id: string; line: number }> {
  const found: Array<{ id: string; line: number }> = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    for (const match of line.matchAll(ID)) found.push({ id: match[1]!, line: index + 1 });
  });
  return found;
}

/** Parses SPEC.md into its rules. Ids inside fenced code blocks are ignored. */
export function parseSpec(markdown: string): SpecParse {
  const lines = markdown.split(/\r?\n/);
  const rules: SpecRule[] = [];
  const problems: string[] = [];
  const references: Array<{ id: string; line: number }> = [];
  let section = '';
  let fence = false;
  let current: { id: string; section: string; line: number; text: string[] } | undefined;
  let blank = false;

  const finish = () => {
    if (current === undefined) return;
    const text = current.text.join('\n').trim();
    rules.push({
      id: current.id,
      section: current.section,
      line: current.line,
      text,
      must: ABSOLUTE.test(text),
      retired: RETIRED.test(text),
    });
    current = undefined;
  };

  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (/^\s*(```|~~~)/.test(line)) {
      fence = !fence;
      if (current !== undefined && !/^\s/.test(line)) finish();
      return;
    }
    if (fence) {
      if (current !== undefined) current.text.push(line);
      return;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      finish();
      section = heading[2]!;
      blank = false;
      return;
    }
    const definition = DEFINITION.exec(line);
    if (definition) {
      finish();
      current = { id: definition[2]!, section, line: lineNo, text: [definition[3]!] };
      // Ids the rule's own text mentions are references.
      for (const match of definition[3]!.matchAll(ID)) references.push({ id: match[1]!, line: lineNo });
      blank = false;
      return;
    }
    if (line.trim() === '') {
      blank = true;
      if (current !== undefined) current.text.push('');
      return;
    }
    const continues = current !== undefined && (/^\s/.test(line) || !blank) && !LIST_ITEM.test(line);
    if (continues) current!.text.push(line);
    else finish();
    for (const match of line.matchAll(ID)) references.push({ id: match[1]!, line: lineNo });
    blank = false;
  });
  finish();

  const seen = new Map<string, number>();
  for (const rule of rules) {
    const first = seen.get(rule.id);
    if (first !== undefined) problems.push(`${rule.id} is defined twice, on lines ${first} and ${rule.line}`);
    else seen.set(rule.id, rule.line);
  }
  for (const ref of references) {
    if (!seen.has(ref.id)) problems.push(`line ${ref.line} refers to ${ref.id}, which SPEC.md does not define`);
  }
  return { rules, problems };
}

export interface SourceFile {
  /** Path relative to the repository, for messages. */
  readonly path: string;
  readonly text: string;
  /** Whether ids named here count as tests of a rule (test files and test vectors) or only must exist. */
  readonly counts: boolean;
}

export interface RuleCoverage {
  readonly rule: SpecRule;
  /** How many times test files name the rule. */
  readonly mentions: number;
  /** The test files that name it, sorted. */
  readonly files: readonly string[];
}

export interface CoverageReport {
  readonly rows: readonly RuleCoverage[];
  /** MUST rules (not retired) that no test names. */
  readonly uncovered: readonly SpecRule[];
  /** Ids named in test sources that SPEC.md does not define, or that are retired. */
  readonly unknown: ReadonlyArray<{ id: string; path: string; line: number; why: 'undefined' | 'retired' }>;
  readonly problems: readonly string[];
  readonly ok: boolean;
}

export function checkCoverage(spec: SpecParse, sources: readonly SourceFile[]): CoverageReport {
  const byId = new Map(spec.rules.map((rule) => [rule.id, rule]));
  const mentions = new Map<string, { count: number; files: Set<string> }>();
  const unknown: Array<{ id: string; path: string; line: number; why: 'undefined' | 'retired' }> = [];
  for (const source of sources) {
    for (const { id, line } of findIds(source.text)) {
      const rule = byId.get(id);
      if (rule === undefined || rule.retired) {
        unknown.push({ id, path: source.path, line, why: rule === undefined ? 'undefined' : 'retired' });
        continue;
      }
      if (!source.counts) continue;
      const entry = mentions.get(id) ?? { count: 0, files: new Set<string>() };
      entry.count++;
      entry.files.add(source.path);
      mentions.set(id, entry);
    }
  }
  const rows = spec.rules.map((rule) => {
    const entry = mentions.get(rule.id);
    return { rule, mentions: entry?.count ?? 0, files: [...(entry?.files ?? [])].sort() };
  });
  const uncovered = rows.filter((row) => row.rule.must && !row.rule.retired && row.mentions === 0).map((row) => row.rule);
  return {
    rows,
    uncovered,
    unknown,
    problems: spec.problems,
    ok: uncovered.length === 0 && unknown.length === 0 && spec.problems.length === 0,
  };
}

/** The report as a plain-text table and summary, for people and CI logs. */
export function formatReport(report: CoverageReport): string {
  const out: string[] = [];
  const status = (row: RuleCoverage) =>
    row.rule.retired ? 'retired' : row.mentions > 0 ? 'covered' : row.rule.must ? 'UNCOVERED' : 'untested';
  const header = ['rule', 'level', 'status', 'mentions', 'files'];
  const table = report.rows.map((row) => [
    `[${row.rule.id}]`,
    row.rule.retired ? '-' : row.rule.must ? 'MUST' : 'other',
    status(row),
    String(row.mentions),
    row.files.map(shortPath).join(', '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  out.push(render(header), render(widths.map((w) => '-'.repeat(w))));
  for (const row of table) out.push(render(row));

  const musts = report.rows.filter((r) => r.rule.must && !r.rule.retired);
  out.push('');
  out.push(
    `${report.rows.length} rules, ${musts.length} MUST rules: ${musts.length - report.uncovered.length} covered, ${report.uncovered.length} uncovered; ` +
      `${report.rows.filter((r) => !r.rule.must && !r.rule.retired && r.mentions > 0).length} other rules named by tests.`,
  );
  for (const rule of report.uncovered) out.push(`UNCOVERED  [${rule.id}] (SPEC.md line ${rule.line}, ${rule.section}) is a MUST rule no test names`);
  for (const u of report.unknown) {
    out.push(`UNKNOWN    ${u.path}:${u.line} names [${u.id}], which SPEC.md ${u.why === 'retired' ? 'has retired' : 'does not define'}`);
  }
  for (const p of report.problems) out.push(`SPEC       ${p}`);
  out.push(report.ok ? 'OK: every MUST rule is named by a test.' : 'FAILED: see the lines above.');
  return out.join('\n');
}

function shortPath(path: string): string {
  return path.replace(/^test\//, '').replace(/\.test\.ts$/, '');
}
