/**
 * A dataset_info.json whose data moved (issue 24.1): one finding instead of one error per path,
 * on "image_paths", saying what probably happened; when every file is found again by name under
 * the workspace folder, exactly once, a quick fix points the paths at them. A handful of missing
 * files stays one finding each, and a name found twice offers no guess.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeAction, CodeActionRequest, TextDocumentEdit } from 'vscode-languageserver-protocol/node';
import { TextDocument, TextEdit } from 'vscode-languageserver-textdocument';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeArcSessions as dataset } from '../support/workspaces';

const uriOf = (file: string) => pathToFileURL(file).href;

type Action = CodeAction & { edit?: { documentChanges?: TextDocumentEdit[] } };

test(
  'a moved dataset: one missing-file finding on image_paths, and a fix that finds the files again',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const { info, text, cache } = dataset(root, 8);
    // The data went elsewhere in the workspace; dataset_info.json stayed.
    mkdirSync(path.join(root, 'archive'));
    renameSync(cache, path.join(root, 'archive', 'nifti_cache'));
    const lsp = new LspSession();
    try {
      await lsp.initialize(root);
      const uri = uriOf(info);
      await lsp.open(uri, text);
      const published = await lsp.settled(uri);
      const missing = published.diagnostics.filter((d) => d.code === 'missing-file');
      assert.equal(missing.length, 1, JSON.stringify(published.diagnostics.map((d) => d.message)));
      const [finding] = missing;
      assert.equal(
        text.split('\n')[finding.range.start.line].slice(finding.range.start.character, finding.range.end.character),
        '"image_paths"',
      );
      assert.match(
        String(finding.message),
        /^None of the 16 image and mask paths resolve: was dataset_info\.json moved, or the data\?/,
      );
      assert.match(
        String(finding.message),
        new RegExp(
          `They are all under ${path.join(root, 'archive', 'nifti_cache').replace(/[.\\/]/g, '\\$&')}: the quick fix rewrites the paths`,
        ),
      );

      const actions = (await lsp.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: finding.range,
        context: { diagnostics: [finding] },
      })) as Action[];
      const fix = actions.find((a) => /^Rewrite 16 paths to the files found under /.test(a.title));
      assert.ok(fix, actions.map((a) => a.title).join(' | '));
      const [change] = fix.edit!.documentChanges!;
      const fixed = TextDocument.applyEdits(lsp.documents.get(uri)!, change.edits as TextEdit[]);
      assert.deepEqual(JSON.parse(fixed).image_paths.slice(0, 2), [
        '../archive/nifti_cache/sub-M2001_ses-1_t2w.nii.gz',
        '../archive/nifti_cache/sub-M2002_ses-1_t2w.nii.gz',
      ]);
      await lsp.change(uri, fixed);
      const after = await lsp.settled(uri);
      assert.deepEqual(
        after.diagnostics.filter((d) => d.code === 'missing-file'),
        [],
        'every path resolves after the fix',
      );
    } finally {
      await lsp.close();
    }
  },
);

test(
  'a few missing files stay one finding each; a name found twice offers no guess',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const { info, text, cache } = dataset(root, 8);
    mkdirSync(path.join(root, 'copy1'));
    mkdirSync(path.join(root, 'copy2'));
    renameSync(path.join(cache, 'sub-M2001_ses-1_t2w.nii.gz'), path.join(root, 'copy1', 'sub-M2001_ses-1_t2w.nii.gz'));
    const lsp = new LspSession();
    try {
      await lsp.initialize(root);
      const uri = uriOf(info);
      await lsp.open(uri, text);
      const few = (await lsp.settled(uri)).diagnostics.filter((d) => d.code === 'missing-file');
      assert.equal(few.length, 1);
      assert.match(String(few[0].message), /^The image nifti_cache\/sub-M2001_ses-1_t2w\.nii\.gz does not exist/);

      // Every file moved, and one name exists twice: the collapse stays, the fix does not.
      for (const name of (await import('node:fs')).readdirSync(cache))
        renameSync(path.join(cache, name), path.join(root, 'copy2', name));
      writeFileSync(path.join(root, 'copy2', 'sub-M2001_ses-1_t2w.nii.gz'), 'a second file of that name');
      await lsp.change(uri, `${text}\n`);
      const mass = (await lsp.settled(uri)).diagnostics.filter((d) => d.code === 'missing-file');
      assert.equal(mass.length, 1);
      assert.doesNotMatch(String(mass[0].message), /They are all under/);
      const actions = (await lsp.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: mass[0].range,
        context: { diagnostics: mass },
      })) as Action[];
      assert.ok(!actions.some((a) => /^Rewrite \d+ paths/.test(a.title)), actions.map((a) => a.title).join(' | '));
    } finally {
      await lsp.close();
    }
  },
);
