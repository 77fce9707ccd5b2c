/**
 * The download's row checks (server/src/download/rows.ts) on their own: ids that cannot name
 * files, and bytes that are not a `.nii.gz` nibabel can load — with nibabel itself asked about
 * every byte case, so "bad" means what it means for the Python consumers.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { collisionKey, idProblem, MAX_ID_LENGTH, niftiGzProblem } from '../../server/src/download/rows';
import { pythonWith, runPython, tempDir } from '../support/python';
import { encodeNifti, encodeVoxels } from '../writers/nifti';

const nibabel = pythonWith('nibabel', 'numpy');

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

const plain = (dims = [16, 16, 8]) =>
  encodeNifti({
    dims,
    datatype: 4,
    data: encodeVoxels(
      4,
      Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => i % 700),
    ),
  });
const gz = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
const good = gz(plain());

/** Each case: bytes meant to be a .nii.gz, and whether nibabel loads them (asserted below when nibabel exists). */
const CASES: { name: string; bytes: Uint8Array; loads: boolean }[] = [
  { name: 'nifti1 int16', bytes: good, loads: true },
  {
    name: 'nifti2 big-endian float32',
    bytes: encodeNifti({
      version: 2,
      dims: [8, 8, 4],
      datatype: 16,
      littleEndian: false,
      data: encodeVoxels(
        16,
        Array.from({ length: 256 }, (_, i) => i / 3),
        false,
      ),
      gzip: true,
    }),
    loads: true,
  },
  // 40 KB of incompressible extension: the header check must grow its prefix past 1 and 16 KiB.
  {
    name: 'large extension',
    bytes: encodeNifti({
      dims: [8, 8, 4],
      datatype: 2,
      data: new Uint8Array(256),
      extensions: [{ code: 6, data: noise(40_000, 3) }],
      gzip: true,
    }),
    loads: true,
  },
  // Two gzip members: the last member's ISIZE is not the whole length, so the whole stream is read.
  {
    name: 'two gzip members',
    bytes: (() => {
      const p = plain();
      return new Uint8Array(Buffer.concat([gzipSync(p.subarray(0, 1000)), gzipSync(p.subarray(1000))]));
    })(),
    loads: true,
  },
  {
    name: 'bytes after the voxels',
    bytes: gz(new Uint8Array(Buffer.concat([plain(), Buffer.alloc(100)]))),
    loads: true,
  },
  { name: 'truncated gzip', bytes: good.subarray(0, Math.floor(good.length * 0.6)), loads: false },
  { name: 'plain .nii named .nii.gz', bytes: plain(), loads: false },
  { name: 'gzip of text', bytes: gz(new TextEncoder().encode('this is not an image\n'.repeat(50))), loads: false },
  { name: 'gzip inside gzip', bytes: gz(good), loads: false },
  { name: 'empty', bytes: new Uint8Array(0), loads: false },
  { name: 'header larger than its data', bytes: gz(plain([64, 64, 64]).subarray(0, 5000)), loads: false },
  // 64 MiB of zeros (about 64 KB compressed): refused without inflating it all at once.
  { name: 'gzip of zeros', bytes: gz(new Uint8Array(64 << 20)), loads: false },
];

test('.nii.gz bytes: accepted exactly when nibabel loads them', async (t) => {
  for (const c of CASES) {
    const problem = await niftiGzProblem(c.bytes);
    assert.equal(problem === undefined, c.loads, `${c.name}: ${problem}`);
    if (!c.loads) assert.match(problem!, /gzip|NIfTI/, c.name);
  }
  if (!nibabel) return t.diagnostic('python3 with nibabel not found: agreement with nibabel not checked');
  const dir = tempDir();
  const files = CASES.map((c, i) => {
    const file = path.join(dir, `case${i}.nii.gz`);
    writeFileSync(file, c.bytes);
    return file;
  });
  const loads = runPython<boolean[]>(
    nibabel,
    `
import json, sys, nibabel as nib
def loads(p):
    try:
        nib.load(p).get_fdata()
        return True
    except Exception:
        return False
print(json.dumps([loads(p) for p in sys.argv[1:]]))
`,
    files,
  );
  assert.deepEqual(
    Object.fromEntries(CASES.map((c, i) => [c.name, loads[i]])),
    Object.fromEntries(CASES.map((c) => [c.name, c.loads])),
  );
});

test('the usual .nii.gz is judged by its header and gzip trailer, not by inflating it all', async () => {
  // Corrupt deflate data past the header with an intact trailer: only a full inflate would see
  // it. Images are checked this cheaply; masks are inflated anyway when their volume is counted.
  const big = gz(encodeNifti({ dims: [64, 64, 32], datatype: 4, data: noise(64 * 64 * 32 * 2, 9) }));
  const corrupt = big.slice();
  corrupt.fill(0xff, Math.floor(big.length * 0.6), Math.floor(big.length * 0.6) + 64);
  assert.equal(await niftiGzProblem(corrupt), undefined);
});

test('ids must be safe file names of bounded length; collisions fold case', () => {
  assert.equal(idProblem('subject_id', 'sub-M2001'), undefined);
  assert.equal(idProblem('session_id', 'ses-1.2_x'), undefined);
  assert.match(idProblem('subject_id', null)!, /subject_id is null/);
  assert.equal(idProblem('session_id', 'x'.repeat(MAX_ID_LENGTH)), undefined);
  assert.match(idProblem('session_id', 'x'.repeat(300))!, /300 characters long \(at most 100\)/);
  for (const unsafe of ['', '../x', 'a/b', '.hidden', '-x', 'a b', 'é', 'a\u0000b'])
    assert.match(idProblem('subject_id', unsafe)!, /not a safe file name/, JSON.stringify(unsafe));
  assert.equal(collisionKey('sub-A_ses-1', 'x'), collisionKey('sub-A', 'ses-1_x'));
  assert.equal(collisionKey('SUB-A', 'ses-1'), collisionKey('sub-a', 'SES-1'));
  assert.notEqual(collisionKey('sub-A', 'ses-1'), collisionKey('sub-A', 'ses-2'));
});
