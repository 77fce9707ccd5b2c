/**
 * Any editor: Neovim's built-in LSP client (headless) starts `neurocache lsp --stdio`, opens a
 * stale manifest, and reads the diagnostics and a hover through `vim.lsp` — the configuration
 * docs/editors.md shows. Skipped when `nvim` is not installed (CI installs Debian's neovim).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' }).status === 0;

// Works from Neovim 0.7 (vim.lsp.start_client); newer versions can use vim.lsp.start the same way.
const SCRIPT = `
local manifest, cli, out = _G.arg_manifest, _G.arg_cli, _G.arg_out
vim.cmd('edit ' .. vim.fn.fnameescape(manifest))
local buf = vim.api.nvim_get_current_buf()
local client = vim.lsp.start_client({
  name = 'neurocache',
  cmd = { 'node', cli, 'lsp', '--stdio' },
  root_dir = vim.fn.fnamemodify(manifest, ':h'),
})
vim.lsp.buf_attach_client(buf, client)
local ok = vim.wait(20000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == 'missing-cache-file' then return true end
  end
  return false
end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(diagnostics, { code = d.code, lnum = d.lnum, col = d.col, message = d.message })
end
local hover = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 1, character = 5 },
}, 10000)
local hover_text = ''
for _, response in pairs(hover or {}) do
  if response.result and response.result.contents then hover_text = response.result.contents.value end
end
local f = io.open(out, 'w')
f:write(vim.fn.json_encode({ ok = ok, diagnostics = diagnostics, hover = hover_text }))
f:close()
vim.lsp.stop_client(client)
vim.cmd('qa!')
`;

test(
  'Neovim reads diagnostics and a hover through vim.lsp',
  { skip: !nvim && 'nvim not installed (apt-get install neovim)' },
  () => {
    const root = tempDir();
    const cache = path.join(root, 'cache');
    mkdirSync(cache);
    writeFileSync(
      path.join(cache, 'a_windows.npz'),
      eegNpz({ windows: 2, channels: 1, samples: 100, labels: new Float32Array(200).fill(1, 0, 10) }),
    );
    const manifest = path.join(cache, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify(
        {
          partial_seizure: [
            { cache_file: 'a_windows.npz', window_idx: 0 },
            { cache_file: 'gone_windows.npz', window_idx: 0 },
          ],
          full_seizure: [],
          no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
        },
        null,
        2,
      ),
    );
    const script = path.join(root, 'check.lua');
    const out = path.join(root, 'result.json');
    writeFileSync(script, SCRIPT);
    const setArgs = `lua _G.arg_manifest=${JSON.stringify(manifest)} _G.arg_cli=${JSON.stringify(cliPath())} _G.arg_out=${JSON.stringify(out)}`;
    const run = spawnSync(
      'nvim',
      ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', setArgs, '-c', `luafile ${script}`],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NEUROCACHE_CACHE_DIR: tempDir(), XDG_STATE_HOME: tempDir(), XDG_DATA_HOME: tempDir() },
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(result.ok, true, JSON.stringify(result));
    const missing = result.diagnostics.find((d: { code: string }) => d.code === 'missing-cache-file');
    assert.equal(missing.lnum, 7);
    assert.match(result.hover, /Balanced training set: none from this manifest/);
    assert.match(result.hover, /3 = 2 partial \+ 0 full \+ 1 no seizure/);
  },
);
