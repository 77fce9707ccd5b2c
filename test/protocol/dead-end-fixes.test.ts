/**
 * Fixes that help (issue 24.2): a finding about one cache file offers to reveal it in the
 * Explorer and to open it (clients that have those commands); "Rebuild manifest.json" only when
 * a rebuild changes the finding; an empty manifest.json next to caches offers the rebuild.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeAction, CodeActionRequest, Diagnostic } from 'vscode-languageserver-protocol/node';
import { ClientCommands, Commands, InitializationOptions } from '../../server/src/protocol';
import { eegNpz } from '../writers/npz';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

const uriOf = (file: string) => pathToFileURL(file).href;

async function titles(lsp: LspSession, uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
  return ((await lsp.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic] },
  })) ?? []) as CodeAction[];
}

test(
  'file-level findings about a cache file: Reveal and Open it; Rebuild only where a rebuild changes the finding; an empty manifest gets Rebuild',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const dir = path.join(root, 'eeg');
    mkdirSync(dir, { recursive: true });
    const labels = new Float32Array(20).fill(1, 0, 3);
    writeFileSync(path.join(dir, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 10, labels }));
    // Not listed, no labels: the build leaves it out, so a rebuild changes nothing.
    writeFileSync(path.join(dir, 'nolabels_windows.npz'), eegNpz({ windows: 1, channels: 1, samples: 10 }));
    // Not listed, good: a rebuild lists it.
    writeFileSync(path.join(dir, 'extra_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 10, labels }));
    const text = JSON.stringify(
      {
        partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
        full_seizure: [],
        no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
      },
      null,
      2,
    );
    writeFileSync(path.join(dir, 'manifest.json'), text);
    const emptyDir = path.join(root, 'fresh');
    mkdirSync(emptyDir);
    writeFileSync(path.join(emptyDir, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 10, labels }));
    writeFileSync(path.join(emptyDir, 'manifest.json'), '');
    const lsp = new LspSession();
    try {
      await lsp.initialize(root, { initializationOptions: { fileCommands: true } satisfies InitializationOptions });
      const uri = uriOf(path.join(dir, 'manifest.json'));
      await lsp.open(uri, text);
      const published = (await lsp.settled(uri)).diagnostics;
      const about = (name: string) => published.find((d) => (d.message as string).startsWith(name))!;

      const noLabels = await titles(lsp, uri, about('nolabels_windows.npz'));
      assert.equal(about('nolabels_windows.npz').code, 'no-labels');
      assert.deepEqual(
        noLabels.map((a) => a.title),
        [
          'Exclude nolabels_windows.npz from manifest builds (.neurocache.json)',
          'Reveal nolabels_windows.npz in the Explorer',
          'Open nolabels_windows.npz',
        ],
      );
      assert.deepEqual(
        noLabels.map((a) => [a.command?.command, a.command?.arguments]),
        [
          [Commands.excludeFromBuild, [uri, 'nolabels_windows.npz']],
          [ClientCommands.revealFile, [uriOf(path.join(dir, 'nolabels_windows.npz'))]],
          [ClientCommands.openFile, [uriOf(path.join(dir, 'nolabels_windows.npz'))]],
        ],
      );

      assert.equal(about('extra_windows.npz').code, 'unreferenced-cache-file');
      assert.deepEqual(
        (await titles(lsp, uri, about('extra_windows.npz'))).map((a) => a.title),
        [
          'Rebuild manifest.json from the cache',
          'Exclude extra_windows.npz from manifest builds (.neurocache.json)',
          'Reveal extra_windows.npz in the Explorer',
          'Open extra_windows.npz',
        ],
      );

      const emptyUri = uriOf(path.join(emptyDir, 'manifest.json'));
      await lsp.open(emptyUri, '');
      const [empty] = (await lsp.settled(emptyUri)).diagnostics;
      assert.equal(empty.code, 'invalid-json');
      const rebuild = await titles(lsp, emptyUri, empty);
      assert.deepEqual(
        rebuild.map((a) => [a.title, a.command?.command]),
        [['Rebuild manifest.json from the cache', Commands.rebuildManifest]],
      );
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);

test(
  'clients without the file commands are offered no Reveal or Open (the exclusion is the server’s own)',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'nolabels_windows.npz'), eegNpz({ windows: 1, channels: 1, samples: 10 }));
    writeFileSync(
      path.join(root, 'a_windows.npz'),
      eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10).fill(1) }),
    );
    const text = JSON.stringify({
      partial_seizure: [],
      full_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      no_seizure: [],
    });
    writeFileSync(path.join(root, 'manifest.json'), text);
    const lsp = new LspSession();
    try {
      await lsp.initialize(root);
      const uri = uriOf(path.join(root, 'manifest.json'));
      await lsp.open(uri, text);
      const noLabels = (await lsp.settled(uri)).diagnostics.find((d) => d.code === 'no-labels')!;
      assert.deepEqual(
        (await titles(lsp, uri, noLabels)).map((a) => a.command?.command),
        [Commands.excludeFromBuild],
      );
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
