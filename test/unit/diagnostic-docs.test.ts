/**
 * Every diagnostic code the engine can emit has its `## code` section in docs/diagnostics.md,
 * which diagnostics link to (`codeDescription.href`, the section's line as `#L` fragment). The
 * codes are the engine's `DIAGNOSTIC_CODES` (the DiagnosticCode type is made from it), so a
 * code added there must be documented before the tests pass.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTIC_CODES } from '../../server/src/engine/diagnostics';
import { codeLinks, codeSections } from '../../server/src/service/diagnosticDocs';
import { repoRoot, tempDir } from '../support/python';

const DOC = path.join(repoRoot(), 'docs', 'diagnostics.md');

/** The engine's codes: DIAGNOSTIC_CODES is their one home (the DiagnosticCode type is made from it). */
const engineCodes = (): string[] => [...DIAGNOSTIC_CODES];

test('every code the engine emits has a section in docs/diagnostics.md', () => {
  const codes = engineCodes();
  assert.ok(
    codes.length >= 20 && codes.includes('missing-cache-file') && codes.includes('legacy-path'),
    `codes read: ${codes.join(', ')}`,
  );
  const sections = codeSections(readFileSync(DOC, 'utf8'));
  const undocumented = codes.filter((code) => !sections.has(code));
  assert.deepEqual(undocumented, [], 'codes without a "## code" section');
});

test("a code links to its heading's line in the installed docs", () => {
  const links = codeLinks(DOC);
  const lines = readFileSync(DOC, 'utf8').split('\n');
  for (const code of engineCodes()) {
    const href = links.get(code)!;
    const match = /^(file:[^#]+)#L(\d+)$/.exec(href);
    assert.ok(match, `${code}: ${href}`);
    assert.equal(fileURLToPath(match[1]), DOC);
    assert.equal(lines[Number(match[2]) - 1], `## ${code}`);
  }
  // Headings that are not codes (prose, deeper levels) get no link.
  const doc = path.join(tempDir(), 'diagnostics.md');
  writeFileSync(doc, '# Diagnostic codes\n\n## missing-file\n\ntext\n\n### Fix\n\n## What training does\n');
  assert.deepEqual([...codeLinks(doc).keys()], ['missing-file']);
  // A bundle without its docs publishes diagnostics without links.
  assert.equal(codeLinks(path.join(tempDir(), 'absent.md')).size, 0);
});
