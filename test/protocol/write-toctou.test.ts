/**
 * The server's rebuild over stdio with a folder of the document swapped for a symbolic link
 * after the command checked the path (issue 21.2): the write is refused and the manifest outside
 * the workspace, which the link leads to, keeps its bytes. The swap is made inside the server by a
 * preloaded hook on its first read of the document once the test arms it (after the check, before
 * the rebuild reads the cache and writes), so the order is exact, with no sleeps.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { Commands } from '../../server/src/protocol';
import { eegNpz } from '../writers/npz';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

const STALE = JSON.stringify(
  { partial_seizure: [{ cache_file: 'gone_windows.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] },
  null,
  2,
);

test(
  'rebuildManifest refuses to write when the cache folder becomes a link out of the workspace mid-command',
  { timeout: 60_000 },
  async () => {
    const base = realpathSync(tempDir());
    const root = path.join(base, 'workspace');
    const cache = path.join(root, 'cache');
    const outside = path.join(base, 'outside');
    mkdirSync(cache, { recursive: true });
    mkdirSync(outside);
    writeFileSync(
      path.join(cache, 'a_windows.npz'),
      eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
    );
    const manifest = path.join(cache, 'manifest.json');
    writeFileSync(manifest, STALE);
    // The same text outside, so that the server's "changed while the command ran" check cannot be what saves it.
    writeFileSync(path.join(outside, 'manifest.json'), STALE);
    const armed = path.join(base, 'armed');
    const preload = path.join(base, 'swap.cjs');
    writeFileSync(
      preload,
      `
    const fs = require('node:fs');
    const open = fs.promises.open;
    fs.promises.open = function (file, ...rest) {
      if (file === ${JSON.stringify(manifest)} && fs.existsSync(${JSON.stringify(armed)})) {
        fs.rmSync(${JSON.stringify(armed)});
        fs.renameSync(${JSON.stringify(cache)}, ${JSON.stringify(`${cache}.moved`)});
        fs.symlinkSync(${JSON.stringify(outside)}, ${JSON.stringify(cache)});
      }
      return open.call(this, file, ...rest);
    };
  `,
    );
    const lsp = new LspSession({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}` });
    try {
      const uri = pathToFileURL(manifest).href;
      await lsp.initialize(root);
      await lsp.until(() => lsp.codes(uri).length > 0);
      writeFileSync(armed, '');
      const response = await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.rebuildManifest,
        arguments: [uri],
      });
      assert.equal(existsSync(armed), false, 'the swap ran');
      assert.match(JSON.stringify(response), /now lies in .*outside.*nothing was written/);
      assert.equal(readFileSync(path.join(outside, 'manifest.json'), 'utf8'), STALE);
      assert.deepEqual(readdirSync(outside), ['manifest.json']);
    } finally {
      await lsp.close();
      rmSync(base, { recursive: true, force: true });
    }
  },
);
