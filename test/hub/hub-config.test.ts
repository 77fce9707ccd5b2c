/**
 * Token and offline settings read as huggingface_hub reads them (`constants.py`,
 * `utils/_auth.py`): variables, precedence, `~`/`$VAR` expansion, true values.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  hfHome,
  hfTokenPath,
  hubOffline,
  hubOfflineVariable,
  hubTokenWithSource,
} from '../../server/src/download/config';
import { formatWait } from '../../server/src/protocol';
import { tempDir } from '../support/python';

test('HF_HOME: ~ and $VAR expanded, XDG_CACHE_HOME fall-back, ~/.cache/huggingface by default', () => {
  assert.equal(hfHome({ HOME: '/h' }), '/h/.cache/huggingface');
  assert.equal(hfHome({ HOME: '/h', XDG_CACHE_HOME: '/xdg' }), '/xdg/huggingface');
  assert.equal(hfHome({ HOME: '/h', XDG_CACHE_HOME: '/xdg', HF_HOME: '~/hf' }), '/h/hf');
  assert.equal(hfHome({ HOME: '/h', HF_HOME: '$SCRATCH/hf', SCRATCH: '/scratch' }), '/scratch/hf');
  assert.equal(hfHome({ HOME: '/h', HF_HOME: '${SCRATCH}/hf', SCRATCH: '/s' }), '/s/hf');
  assert.equal(
    hfHome({ HOME: '/h', HF_HOME: '$UNSET/hf' }),
    '$UNSET/hf',
    'unset variables stay as written (os.path.expandvars)',
  );
  assert.equal(hfHome({ HOME: '/h', HF_HOME: 'a~/b' }), 'a~/b');
  assert.equal(hfTokenPath({ HOME: '/h', HF_HOME: '~/hf' }), '/h/hf/token');
  assert.equal(hfTokenPath({ HOME: '/h', HF_HOME: '~/hf', HF_TOKEN_PATH: '~/secrets/hf' }), '/h/secrets/hf');
});

test('token precedence: option, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the file at HF_TOKEN_PATH; cleaned like _clean_token', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'hf'));
  writeFileSync(path.join(dir, 'hf', 'token'), ' hf_file\r\n');
  writeFileSync(path.join(dir, 'other'), 'hf_other\n');
  const base = { HOME: dir, HF_HOME: '~/hf' };
  assert.deepEqual(hubTokenWithSource(' hf_opt ', { ...base, HF_TOKEN: 'hf_env' }), {
    token: 'hf_opt',
    source: 'option',
  });
  assert.deepEqual(hubTokenWithSource(undefined, { ...base, HF_TOKEN: 'hf_env', HUGGING_FACE_HUB_TOKEN: 'hf_old' }), {
    token: 'hf_env',
    source: 'HF_TOKEN',
  });
  assert.deepEqual(hubTokenWithSource(undefined, { ...base, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: 'hf_old' }), {
    token: 'hf_old',
    source: 'HUGGING_FACE_HUB_TOKEN',
  });
  assert.deepEqual(hubTokenWithSource(undefined, { ...base, HF_TOKEN: '  ' }), {
    token: 'hf_file',
    source: 'token file',
    path: path.join(dir, 'hf', 'token'),
  });
  assert.deepEqual(hubTokenWithSource(undefined, { ...base, HF_TOKEN_PATH: '$HOME/other' }), {
    token: 'hf_other',
    source: 'token file',
    path: path.join(dir, 'other'),
  });
  assert.equal(hubTokenWithSource(undefined, { HOME: dir }), undefined, 'no file under ~/.cache/huggingface');
  assert.equal(hubTokenWithSource(undefined, { ...base, XDG_CACHE_HOME: dir, HF_HOME: undefined }), undefined);
  writeFileSync(path.join(dir, 'huggingface'), 'not a folder');
  assert.throws(
    () => hubTokenWithSource(undefined, { HOME: dir, XDG_CACHE_HOME: dir }),
    /cannot read the Hub token file .*ENOTDIR/,
  );
  if (process.getuid?.() !== 0) {
    chmodSync(path.join(dir, 'other'), 0);
    assert.throws(
      () => hubTokenWithSource(undefined, { ...base, HF_TOKEN_PATH: path.join(dir, 'other') }),
      /cannot read the Hub token file .*other.*EACCES/,
    );
  }
  // A token path that is a folder is an error too (huggingface_hub only ignores a missing file).
  assert.throws(
    () => hubTokenWithSource(undefined, { ...base, HF_TOKEN_PATH: path.join(dir, 'hf') }),
    /cannot read the Hub token file .*EISDIR/,
  );
});

test('offline: HF_HUB_OFFLINE or else TRANSFORMERS_OFFLINE, true for 1/ON/YES/TRUE in any case', () => {
  for (const value of ['1', 'on', 'ON', 'Yes', 'true', 'TRUE']) {
    assert.equal(hubOfflineVariable({ HF_HUB_OFFLINE: value }), `HF_HUB_OFFLINE=${value}`);
    assert.equal(hubOfflineVariable({ TRANSFORMERS_OFFLINE: value }), `TRANSFORMERS_OFFLINE=${value}`);
  }
  for (const value of ['0', 'off', 'no', 'false', '2', ' 1', 'auto', ''])
    assert.equal(hubOffline({ HF_HUB_OFFLINE: value }), false, value);
  // Python's `or`: a non-empty HF_HUB_OFFLINE decides alone; an empty one defers.
  assert.equal(hubOffline({ HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' }), false);
  assert.equal(hubOfflineVariable({ HF_HUB_OFFLINE: '', TRANSFORMERS_OFFLINE: 'yes' }), 'TRANSFORMERS_OFFLINE=yes');
});

test('waits read as people read them', () => {
  assert.equal(formatWait(130_000), '2 m 10 s');
  assert.equal(formatWait(120_000), '2 m');
  assert.equal(formatWait(44_200), '45 s');
  assert.equal(formatWait(3_900_000), '1 h 5 m');
});
