/**
 * A UTF-8 byte-order mark (EF BB BF) at the start of each of the three files: Python's
 * `json.load(open(p))` raises "Unexpected UTF-8 BOM", so training treats the file as unreadable;
 * `check` and `stats` must say so (invalid-json), never read past the mark. Python is run here to
 * confirm what it raises for the very bytes the CLI is given.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BOM, BOM_CASES } from '../support/bom';
import { cliPath, pythonWith, runPython, tempDir } from '../support/python';

const python = pythonWith('json');

function cli(args: string[], store: string) {
  return spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8', timeout: 60_000 });
}

for (const { name, json } of BOM_CASES) {
  test(`${name} with a byte-order mark: check and stats report invalid-json, as json.load raises`, () => {
    const dir = tempDir();
    const store = path.join(dir, 'store');
    try {
      const file = path.join(dir, name);
      writeFileSync(file, Buffer.concat([BOM, Buffer.from(JSON.stringify(json, null, 2))]));
      const expected = 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)';
      if (python) {
        const raised = runPython<string>(
          python,
          'import json, sys\ntry:\n  json.load(open(sys.argv[1], encoding="utf-8")); print(json.dumps("loaded"))\nexcept json.JSONDecodeError as e: print(json.dumps(str(e)))',
          [file],
        );
        assert.equal(raised, expected);
      }
      const checked = cli(['check', file], store);
      assert.equal(checked.status, 1, checked.stdout + checked.stderr);
      assert.match(
        checked.stdout,
        new RegExp(
          `${name.replace('.', '\\.')}:1:1: error invalid-json: Python's json\\.load raises json\\.JSONDecodeError: ${expected.replace(/[()]/g, '\\$&')}\\. \\S`,
        ),
      );
      const stats = cli(['stats', file], store);
      assert.equal(stats.status, 2, stats.stdout + stats.stderr);
      assert.equal(stats.stdout, '', 'no numbers from a file training cannot read');
      assert.match(stats.stderr, /Unexpected UTF-8 BOM.*\. \S/);
      // Without the mark the same file is read: the mark alone is the fault.
      writeFileSync(file, JSON.stringify(json, null, 2));
      assert.doesNotMatch(cli(['check', file], store).stdout, /invalid-json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
