/**
 * A burst of small edits on a 150,000-entry manifest (13 MB), over stdio: the work is per
 * burst, not per edit. Counted, not timed: after 2,000 didChange notifications the server has
 * rebuilt the text, parsed it and started a content check a few times at most; a hover sent
 * right behind the burst answers (from the last analysis), and the final diagnostics are those
 * of the final version.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import { WorkCountersRequest } from '../../server/src/protocol';
import { uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';

const EDITS = 2000;
// At most this many of each unit of work for the whole burst (one is what a quiet burst costs).
const PER_BURST = 3;

test(
  '2,000 edits on a 150,000-entry manifest cost a few parses, hovers answer, the last version wins',
  { timeout: 300_000 },
  async () => {
    const root = tempDir();
    const entries = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) => ({
        cache_file: `sub-${String((i + offset) % 5000).padStart(5, '0')}_windows.npz`,
        window_idx: (i + offset) % 30,
      }));
    const text = JSON.stringify(
      { partial_seizure: entries(15000, 0), full_seizure: entries(5000, 15000), no_seizure: entries(130000, 20000) },
      null,
      2,
    );
    const file = path.join(root, 'manifest.json');
    writeFileSync(file, text);
    const uri = uriOf(file);
    // The edited value: a single-digit window_idx of an early partial entry (within the diagnostics cap).
    const lines = text.split('\n');
    const line = lines.findIndex((l, i) => i > 400 && /"window_idx": \d$/.test(l));
    const character = lines[line].indexOf(': ') + 2;
    assert.match(lines[line].slice(character), /^\d$/);
    const at = { start: { line, character }, end: { line, character: character + 1 } };
    const changes = Array.from({ length: EDITS - 1 }, (_, i) => ({ range: at, text: String(i % 10) }));
    changes.push({ range: at, text: '"x"' });
    lines[line] = `${lines[line].slice(0, character)}"x"`;
    const finalText = lines.join('\n');

    await withLsp(root, async (lsp) => {
      await lsp.open(uri, text);
      await lsp.settled(uri);
      const { checking: _checking, ...before } = await lsp.request(WorkCountersRequest.type, { uri });

      await lsp.burst(uri, changes, finalText);
      const hover = await lsp.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position: { line: 1, character: 5 },
      });
      assert.match(JSON.stringify(hover?.contents), /Windows: 150,000 = 15,000 partial/);

      const published = await lsp.settled(uri);
      assert.equal(published.version, 1 + EDITS);
      const schema = published.diagnostics.filter((d) => d.code === 'manifest-schema');
      assert.deepEqual(
        schema.map((d) => [d.range.start.line, String(d.message)]),
        [[line, '"window_idx" is "x": int() raises ValueError when BalancedSeizureDataset takes this entry.']],
      );

      const { checking, ...after } = await lsp.request(WorkCountersRequest.type, { uri });
      assert.equal(checking, false, 'no check running once settled');
      const spent = Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
      );
      process.stdout.write(`# ${EDITS} edits: ${JSON.stringify(spent)}\n`);
      // A parse of the whole text or a re-parse of the edited entry: either is one unit of parsing.
      const { reparses, ...units } = spent;
      units.parses += reparses;
      for (const [unit, count] of Object.entries(units))
        assert.ok(count >= 1 && count <= PER_BURST, `${unit}: ${count} for one burst`);
    });
  },
);
