/**
 * `npm run test:spec`: the SPEC traceability check.
 *
 * Lists every numbered rule of SPEC.md with the test files that name it, and
 * exits 1 when
 * - a MUST rule (MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT) is named by no
 *   test (a `*.test.ts` file under test/, or a case in test/vectors/*.json,
 *   whose `rule` field the vector-driven tests put into their names);
 * - any file under test/ names an id that SPEC.md does not define (or has
 *   retired);
 * - SPEC.md defines an id twice or refers to one it does not define.
 *
 * Usage: npx tsx scripts/check-spec-coverage.ts [--spec SPEC.md] [--tests test]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkCoverage, formatReport, parseSpec, type SourceFile } from './spec-rules.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({
      options: { spec: { type: 'string', default: 'SPEC.md' }, tests: { type: 'string', default: 'test' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`check-spec-coverage: ${(error as Error).message}\n`);
    return 2;
  }
  const specPath = resolve(root, values.spec);
  const testsDir = resolve(root, values.tests);
  let spec;
  let files;
  try {
    spec = parseSpec(readFileSync(specPath, 'utf8'));
    files = walk(testsDir);
  } catch (error) {
    process.stderr.write(`check-spec-coverage: ${(error as Error).message}\n`);
    return 2;
  }
  const sources: SourceFile[] = files
    .filter((path) => /\.(ts|json)$/.test(path))
    .map((path) => {
      const rel = relative(root, path).split('\\').join('/');
      return {
        path: rel,
        text: readFileSync(path, 'utf8'),
        counts: /\.test\.ts$/.test(rel) || /(^|\/)vectors\/[^/]+\.json$/.test(rel),
      };
    });
  if (spec.rules.length === 0) {
    process.stderr.write(`check-spec-coverage: no rules found in ${relative(root, specPath)}\n`);
    return 1;
  }
  const report = checkCoverage(spec, sources);
  process.stdout.write(formatReport(report) + '\n');
  return report.ok ? 0 : 1;
}

process.exitCode = main();
