/** Run directories of tests: a temporary folder removed after the test, and its metrics lines. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder (`wmgym-<prefix>-…`), removed when the test ends. */
export function tempRunDir(t: { teardown(f: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wmgym-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The parsed lines of a run's `metrics.jsonl`. */
export function metricLines(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
