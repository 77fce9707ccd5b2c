/**
 * NIfTI files nibabel cannot load do not pass (issue 10 item 8): truncated, misnamed, invalid
 * datatype codes, NaN or too-low vox_offset, RGB voxels, lying dims; and files nibabel does load
 * (a damaged gzip trailer, garbage after the stream, several gzip members, vox_offset 0) pass with
 * nibabel's count. Each damaged file is given to nibabel, and our message must name the same
 * exception at the same stage (nib.load or get_fdata), for images (header-level checks) and
 * masks (every voxel read) alike.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { ByteSource, FormatError, memorySource } from '../../server/src/engine/io/source';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { pythonWith, runPython, tempDir } from '../support/python';

const nibabel = pythonWith('nibabel', 'numpy');

// Writes damaged variants of a volume saved by nibabel, then records what nibabel does with each.
const DAMAGE = `
import gzip, json, logging, struct, sys, warnings, zlib, numpy as np, nibabel as nib
warnings.simplefilter('ignore')
logging.getLogger('nibabel').setLevel(logging.CRITICAL)
out = sys.argv[1]
rng = np.random.default_rng(5)
data = rng.integers(-2, 3, size=(24, 20, 16)).astype(np.int16)
files = {}
def save(name, raw):
    with open(f"{out}/{name}", 'wb') as f: f.write(raw)
    files[name] = None
nib.save(nib.Nifti1Image(data, np.eye(4)), f"{out}/base.nii")
nib.save(nib.Nifti2Image(data, np.eye(4)), f"{out}/base2.nii")
plain = open(f"{out}/base.nii", 'rb').read()
plain2 = open(f"{out}/base2.nii", 'rb').read()
gz = lambda b: gzip.compress(b, mtime=0)
def patched(raw, fmt, at, *values):
    b = bytearray(raw); struct.pack_into(fmt, b, at, *values); return bytes(b)
save('good.nii', plain); save('good.nii.gz', gz(plain)); save('good2.nii', plain2); save('good2.nii.gz', gz(plain2))
save('trunc_data.nii.gz', gz(plain)[: len(gz(plain)) // 2])
save('trunc_header.nii.gz', gz(plain)[:60])
save('trunc_data.nii', plain[:-10])
save('trunc_header.nii', plain[:200])
save('plain_named.nii.gz', plain)
save('gz_named.nii', gz(plain))
for code in [0, 1, 3, 255, 999, 1536, 2048]:
    save(f'datatype_{code}.nii', patched(plain, '<h', 70, code)); save(f'datatype_{code}.nii.gz', gz(patched(plain, '<h', 70, code)))
for label, v in [('nan', float('nan')), ('inf', float('inf')), ('10', 10.0), ('0', 0.0), ('352.5', 352.5), ('1e9', 1e9)]:
    save(f'vox_{label}.nii', patched(plain, '<f', 108, v)); save(f'vox_{label}.nii.gz', gz(patched(plain, '<f', 108, v)))
save('vox2_400.nii', patched(plain2, '<q', 168, 400))
save('inter_nan.nii.gz', gz(patched(plain, '<ff', 112, 1.0, float('nan'))))
g = gz(plain)
save('no_trailer.nii.gz', g[:-8]); save('bad_crc.nii.gz', g[:-8] + b'\\0\\0\\0\\0' + g[-4:]); save('bad_isize.nii.gz', g[:-4] + b'\\1\\2\\3\\4')
save('garbage_after.nii.gz', g + b'garbage!'); save('zeros_after.nii.gz', g + bytes(64))
half = len(plain) // 2
save('two_members.nii.gz', gz(plain[:half]) + gz(plain[half:]))
save('tiny_first_member.nii.gz', gz(plain[:100]) + gz(plain[100:]))
flipped = bytearray(g); flipped[len(g) // 2] ^= 0x55; flipped[len(g) // 2 + 1] ^= 0xAA; save('flipped_middle.nii.gz', bytes(flipped))
big = rng.integers(-2, 3, size=(64, 64, 64)).astype(np.int16)
nib.save(nib.Nifti1Image(big, np.eye(4)), f"{out}/big.nii")
bg = gz(open(f"{out}/big.nii", 'rb').read())
deep = bytearray(bg); deep[len(bg) * 3 // 4] ^= 0x55; deep[len(bg) * 3 // 4 + 1] ^= 0xAA; save('flipped_deep.nii.gz', bytes(deep))
save('vox_1e30.nii', patched(plain, '<f', 108, 1e30))
rgb = np.zeros((4, 3, 2), dtype=[('R', 'u1'), ('G', 'u1'), ('B', 'u1')])
nib.save(nib.Nifti1Image(rgb, np.eye(4)), f"{out}/rgb.nii"); files['rgb.nii'] = None
save('rgb.nii.gz', gz(open(f"{out}/rgb.nii", 'rb').read()))
save('dims_lie.nii', patched(plain, '<4h', 40, 3, 32767, 32767, 32767)); save('dims_lie.nii.gz', gz(patched(plain, '<4h', 40, 3, 32767, 32767, 32767)))
def name_of(e):
    return 'zlib.error' if type(e).__module__ == 'zlib' else type(e).__name__
for name in files:
    try:
        img = nib.load(f"{out}/{name}")
    except Exception as e:
        files[name] = {'outcome': 'load:' + name_of(e)}; continue
    try:
        files[name] = {'outcome': 'ok', 'count': int((img.get_fdata() > 0).sum())}
    except Exception as e:
        files[name] = {'outcome': 'fdata:' + name_of(e)}
print(json.dumps(files))
`;

type Outcome = { outcome: string; count?: number };

/** "ok:<count>", or the stage and exception names our message attributes to nibabel. */
async function ours(
  bytes: Uint8Array,
  name: string,
  countVoxels: boolean,
): Promise<{ ok: true; count?: number } | { ok: false; stage: string; names: string[]; message: string }> {
  try {
    const summary = await summarizeNifti(memorySource(bytes), { countVoxels, name });
    return { ok: true, count: summary.positiveVoxels };
  } catch (error) {
    assert.ok(error instanceof FormatError, `${name}: ${String(error)}`);
    const said = /\(nibabel: ([^)]*)\)/.exec(error.message)?.[1] ?? '';
    const stage = said.startsWith('nib.load raises') ? 'load' : said.includes('get_fdata raises') ? 'fdata' : 'any';
    const names = [...said.matchAll(/\b(zlib\.error|[A-Z]\w*Error)\b/g)].map((m) => m[1]);
    return { ok: false, stage, names, message: error.message };
  }
}

// Found only by inflating every voxel: images get the cheap checks (trailer length), masks all.
const IMAGE_CHECK_MISSES = new Set(['flipped_deep.nii.gz']);

test(
  'nibabel outcomes are matched and named, for images and masks',
  { skip: !nibabel && 'no python3 with nibabel (apt-get install python3-nibabel)' },
  async () => {
    const dir = tempDir();
    const expected = runPython<Record<string, Outcome>>(nibabel!, DAMAGE, [dir]);
    assert.ok(Object.keys(expected).length >= 50);
    const mismatches: string[] = [];
    for (const [name, nib] of Object.entries(expected)) {
      const bytes = readFileSync(path.join(dir, name));
      for (const countVoxels of [false, true]) {
        const got = await ours(bytes, name, countVoxels);
        const what = `${name} (${countVoxels ? 'mask' : 'image'}): nibabel ${nib.outcome}${nib.count !== undefined ? ` ${nib.count}` : ''}, ours ${got.ok ? `ok ${got.count ?? ''}` : got.message}`;
        if (!countVoxels && IMAGE_CHECK_MISSES.has(name)) {
          if (!got.ok) mismatches.push(`${what} (expected a miss: update IMAGE_CHECK_MISSES)`);
          continue;
        }
        if (nib.outcome === 'ok') {
          if (!got.ok || (countVoxels && got.count !== nib.count)) mismatches.push(what);
          continue;
        }
        const [stage, exception] = nib.outcome.split(':');
        if (got.ok || !got.names.includes(exception) || !(got.stage === stage || got.stage === 'any'))
          mismatches.push(what);
      }
    }
    assert.deepEqual(mismatches, []);
  },
);

test('a valid image is checked from its header and gzip trailer, without reading the voxels', async () => {
  // 8 MB of incompressible int16 voxels.
  const values = new Int16Array(128 * 128 * 256);
  for (let i = 0, x = 1; i < values.length; i++) values[i] = (x = (x * 48271) % 2147483647) & 0xffff;
  const bytes = encodeNifti({ dims: [128, 128, 256], datatype: 4, data: encodeVoxels(4, values), gzip: true });
  assert.ok(bytes.length > 8_000_000);
  let read = 0;
  const source: ByteSource = {
    size: bytes.length,
    read: async (offset, length) => (
      (read += Math.max(0, Math.min(length, bytes.length - offset))),
      bytes.subarray(offset, offset + length)
    ),
  };
  const image = await summarizeNifti(source, { countVoxels: false, name: 'x_t2w.nii.gz' });
  assert.deepEqual(image.shape, [128, 128, 256]);
  // The header's chunk and the stream's read-ahead, not the voxels.
  assert.ok(read < bytes.length / 2, `read ${read} of ${bytes.length}`);
  // A trailer that disagrees makes it inflate everything to see what nibabel would get.
  read = 0;
  const cut = bytes.subarray(0, bytes.length - 1000);
  const cutSource: ByteSource = {
    size: cut.length,
    read: async (offset, length) => (
      (read += Math.max(0, Math.min(length, cut.length - offset))),
      cut.subarray(offset, offset + length)
    ),
  };
  await assert.rejects(
    summarizeNifti(cutSource, { countVoxels: false, name: 'x_t2w.nii.gz' }),
    /truncated file: voxel data ends \d+ bytes early \(nibabel: nib.load works, get_fdata raises EOFError\)/,
  );
  assert.ok(read >= cut.length);
});
