// Checks the fixture writers (test/writers) against the Python readers they imitate: numpy
// for .npz/.npy and nibabel for NIfTI. Every other test trusts these fixtures, so they are
// verified by the real consumers, not by our own readers. Skipped when Python lacks them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeComplex, encodeNpy, encodeValues, halfBits, parseDescr } from '../writers/npy';
import { eegNpz, writeNpz, writeNpzFile, type NpzMember, type NpzOptions } from '../writers/npz';
import { encodeNifti, encodeVoxels, niftiDescr } from '../writers/nifti';
import { pythonWith, runPython, tempDir } from '../support/python';

/** Runs a check script with a JSON spec file as argv[1] and parses the JSON it prints. */
function check<T>(python: string, dir: string, script: string, spec: unknown): T {
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  return runPython<T>(python, script, [specPath]);
}

/** JSON text that Python's json module reads back exactly, including NaN, ±Infinity, -0 and big ints. */
function pyJson(values: ArrayLike<number | bigint>): string {
  const lit = (v: number | bigint) =>
    typeof v === 'bigint'
      ? String(v)
      : Number.isNaN(v)
        ? 'NaN'
        : v === Infinity
          ? 'Infinity'
          : v === -Infinity
            ? '-Infinity'
            : Object.is(v, -0)
              ? '-0.0'
              : String(v);
  return `[${Array.from(values, lit).join(',')}]`;
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = tempDir('neurocache-writers-');
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Relative comparison: half floats and float32 sums are not exact. */
function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-3 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

// ---- pure checks (no Python needed) ------------------------------------------------------

test('npy headers and half floats follow numpy bit for bit', () => {
  const npy = encodeNpy({ descr: '<f4', shape: [60, 19, 15360], data: new Uint8Array(0) });
  assert.equal(npy.length % 64, 0); // numpy aligns the data start to 64 bytes
  assert.match(
    Buffer.from(npy).toString('latin1'),
    /^\x93NUMPY\x01\x00.{2}\{'descr': '<f4', 'fortran_order': False, 'shape': \(60, 19, 15360\), \} +\n$/s,
  );
  assert.match(
    Buffer.from(encodeNpy({ descr: '|b1', shape: [5], data: new Uint8Array(5) })).toString('latin1'),
    /'shape': \(5,\)/,
  );
  assert.match(
    Buffer.from(encodeNpy({ descr: '|b1', shape: [], data: new Uint8Array(1) })).toString('latin1'),
    /'shape': \(\), \}/,
  );
  // largest half, rounding to infinity, smallest subnormal, ties to even, NaN, -0
  const cases: [number, number][] = [
    [65504, 0x7bff],
    [65520, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [NaN, 0x7e00],
    [-0, 0x8000],
    [-Infinity, 0xfc00],
  ];
  for (const [v, bits] of cases) assert.equal(halfBits(v), bits, `half(${v})`);
});

// ---- NPZ against numpy -------------------------------------------------------------------

interface ArrayCase {
  name: string;
  descr: string;
  shape: number[];
  fortran: boolean;
  version: 1 | 2 | 3;
  /** Logical values in C order (last axis fastest). */
  values: (number | bigint)[];
  imag?: number[];
}

const seq = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const ARRAYS: ArrayCase[] = [
  {
    name: 'windows',
    descr: '<f4',
    shape: [2, 3, 4],
    fortran: false,
    version: 1,
    values: seq(24, (i) => (i === 5 ? NaN : i === 0 ? -0 : i * 0.25 - 2)),
  },
  {
    name: 'big_endian',
    descr: '>f8',
    shape: [3, 4],
    fortran: true,
    version: 2,
    values: seq(12, (i) => (i === 7 ? Infinity : i === 2 ? NaN : i * 1.5 - 4)),
  },
  { name: 'labels', descr: '|b1', shape: [2, 3], fortran: false, version: 3, values: [1, 0, NaN, -0, 2, 0] },
  {
    name: 'half',
    descr: '<f2',
    shape: [2, 4],
    fortran: true,
    version: 1,
    values: [0.1, 65504, 1e-7, -0, NaN, 2.5, -1024.75, 1 + 2 ** -11],
  },
  { name: 'int64', descr: '<i8', shape: [3], fortran: false, version: 2, values: [2n ** 62n, -5n, -(2n ** 63n)] },
  {
    name: 'complex',
    descr: '<c8',
    shape: [3],
    fortran: false,
    version: 3,
    values: [1.5, -2, 0.25],
    imag: [0.5, 3, -1],
  },
  { name: 'duration', descr: '<m8[s]', shape: [2, 2], fortran: true, version: 1, values: [1, -3, 86400, 0] },
];

/** Reorders C-order values into Fortran memory order (first axis fastest). */
function toFortran<T>(values: T[], shape: number[]): T[] {
  const out = new Array<T>(values.length);
  values.forEach((v, c) => {
    let rest = c;
    let f = 0;
    let stride = values.length;
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      stride /= shape[ax];
      f += (rest % shape[ax]) * stride;
      rest = Math.floor(rest / shape[ax]);
    }
    out[f] = v;
  });
  return out;
}

function npyOf(c: ArrayCase): NpzMember {
  const order = <T>(v: T[]) => (c.fortran ? toFortran(v, c.shape) : v);
  const data = c.imag
    ? encodeComplex(c.descr, order(c.values as number[]), order(c.imag))
    : encodeValues(c.descr, order(c.values));
  return {
    name: `${c.name}.npy`,
    bytes: encodeNpy({ descr: c.descr, shape: c.shape, fortranOrder: c.fortran, version: c.version, data }),
  };
}

/** What np.load must report: bools sum their truthy values (NaN included), others their finite values. */
function expectedSum(c: ArrayCase): number {
  const nums = c.values.map(Number);
  if (parseDescr(c.descr).kind === 'b') return nums.filter((v) => v !== 0).length;
  return nums.filter(Number.isFinite).reduce((a, b) => a + b, 0);
}

const NUMPY_CHECK = `
import io, json, sys, warnings, zipfile, numpy as np
warnings.simplefilter('ignore')
# Older CPython zipfiles write real sizes, not 0xFFFFFFFF, in forced-ZIP64 local headers:
# byte identity with np.savez is only expected from a Python that writes the sentinels.
probe = io.BytesIO()
np.savez(probe, x=np.zeros(1))
modern = probe.getvalue()[18:22] == b'\\xff' * 4
out = []
for f in json.load(open(sys.argv[1])):
    assert zipfile.ZipFile(f['path']).testzip() is None, 'bad CRC'
    z = np.load(f['path'])
    res = {'files': sorted(z.files), 'members': {}}
    for m in f['members']:
        a = z[m['name']]
        r = (a.real if a.dtype.kind == 'c' else a).astype('f8')
        info = {'descr': a.dtype.str, 'shape': list(a.shape), 'sum': float(r[np.isfinite(r)].sum()),
                'fortran': bool(a.flags.f_contiguous and not a.flags.c_contiguous)}
        if 'values' in m:  # numpy's own conversion of the same logical values, byte for byte
            ref = np.empty(a.shape, a.dtype)
            if 'imag' in m:
                ref.real = np.reshape(json.loads(m['values']), a.shape)
                ref.imag = np.reshape(json.loads(m['imag']), a.shape)
            else:
                ref[...] = np.reshape(np.array(json.loads(m['values']), dtype=a.dtype), a.shape)
            info['exact'] = np.ascontiguousarray(a).tobytes() == ref.tobytes()
        res['members'][m['name']] = info
    if f.get('sameAsSavez') and modern:
        buf = io.BytesIO()
        np.savez(buf, **{k: z[k] for k in z.files})
        res['sameAsSavez'] = buf.getvalue() == open(f['path'], 'rb').read()
    out.append(res)
print(json.dumps(out))
`;

interface NumpyResult {
  files: string[];
  members: Record<string, { descr: string; shape: number[]; sum: number; fortran: boolean; exact?: boolean }>;
  sameAsSavez?: boolean;
}

test('npz files load in numpy with the written dtypes, shapes and values', (t) => {
  const python = pythonWith('numpy');
  if (!python) return t.skip('no python3 with numpy');
  withTempDir((dir) => {
    const members = ARRAYS.map(npyOf);
    const variants: [string, NpzOptions, 'memory' | 'stream'][] = [
      ['stored.npz', { compress: false }, 'memory'],
      ['deflated.npz', { compress: true }, 'memory'],
      ['stored-zip64.npz', { compress: false, zip64: true }, 'memory'],
      ['deflated-zip64.npz', { compress: true, zip64: true }, 'memory'],
      ['streamed-stored.npz', { compress: false }, 'stream'],
      ['streamed-deflated-zip64.npz', { compress: true, zip64: true }, 'stream'],
    ];
    const spec: object[] = [];
    for (const [file, opts, how] of variants) {
      const path = join(dir, file);
      if (how === 'memory') writeFileSync(path, writeNpz(members, opts));
      // Several small chunks per member, so batching and CRC continuation are exercised.
      else
        writeNpzFile(
          path,
          members.map((m) => ({
            name: m.name,
            size: m.bytes.length,
            chunks: () => [m.bytes.subarray(0, 70), m.bytes.subarray(70)],
          })),
          opts,
        );
      const described = ARRAYS.map((c) => ({
        name: c.name,
        values: pyJson(c.values),
        ...(c.imag && { imag: pyJson(c.imag) }),
      }));
      spec.push({ path, members: described });
    }
    // With numpy's default (version 1.0) headers, a stored file must equal np.savez's bytes.
    const v1Path = join(dir, 'as-numpy.npz');
    writeFileSync(
      v1Path,
      writeNpz(
        ARRAYS.map((c) => npyOf({ ...c, version: 1 })),
        { compress: false },
      ),
    );
    spec.push({ path: v1Path, members: [], sameAsSavez: true });
    // The EEG cache helper: a windows array plus boolean labels.
    const eegPath = join(dir, 'eeg.npz');
    const labels = Float32Array.from({ length: 2 * 15360 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    writeFileSync(eegPath, eegNpz({ windows: 2, labels, labelsDescr: '|b1', compress: true }));
    spec.push({ path: eegPath, members: [{ name: 'windows' }, { name: 'labels' }] });

    const results = check<NumpyResult[]>(python, dir, NUMPY_CHECK, spec);
    for (const [i, [file]] of variants.entries()) {
      assert.deepEqual(results[i].files, ARRAYS.map((c) => c.name).sort(), file);
      for (const c of ARRAYS) {
        const got = results[i].members[c.name];
        assert.equal(got.descr, c.descr, `${file} ${c.name} dtype`);
        assert.deepEqual(got.shape, c.shape, `${file} ${c.name} shape`);
        assert.equal(got.fortran, c.fortran, `${file} ${c.name} order`);
        assert.equal(got.exact, true, `${file} ${c.name} bytes differ from numpy's conversion`);
        assertClose(got.sum, expectedSum(c), `${file} ${c.name} sum`);
      }
    }
    const [asNumpy, eeg] = results.slice(variants.length);
    assert.notEqual(asNumpy.sameAsSavez, false, 'stored npz differs from np.savez output');
    assert.deepEqual(eeg.members.windows.shape, [2, 19, 15360]);
    assert.equal(eeg.members.windows.descr, '<f4');
    assert.deepEqual(eeg.members.labels, { descr: '|b1', shape: [2, 15360], sum: 10240, fortran: false });
  });
});

// ---- NIfTI against nibabel ---------------------------------------------------------------

const NIBABEL_CHECK = `
import json, sys, warnings, numpy as np, nibabel as nib
warnings.simplefilter('ignore')
out = []
for path in json.load(open(sys.argv[1])):
    img = nib.load(path)
    h = img.header
    out.append({
        'shape': list(img.shape),
        'descr': h.get_data_dtype().str,
        'sum': float(np.nansum(np.asanyarray(img.dataobj))),
        'positive': int((img.get_fdata() > 0).sum()),
        'sizeofHdr': int(h['sizeof_hdr']),
        'voxOffset': int(img.dataobj.offset),  # where nibabel read the voxels from
        'descrip': h['descrip'].item().decode('latin1'),
        'extensions': [[e.get_code(), e.get_content().rstrip(b'\\x00').hex()] for e in h.extensions],  # drop the 16-byte padding
        'affine': img.affine.tolist(),
    })
print(json.dumps(out))
`;

interface NibabelResult {
  shape: number[];
  descr: string;
  sum: number;
  positive: number;
  sizeofHdr: number;
  voxOffset: number;
  descrip: string;
  extensions: [number, string][];
  affine: number[][];
}

const DESCRIPTION = 'NeuroCache test fixture, 40-char descrip';
const EXTENSION = { code: 6, data: Buffer.from('{"fixture": true}') }; // 6 = comment
const DATATYPES = [2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280];
// [slope, inter]; slope 0 or NaN means "no scaling" (inter ignored), a negative slope flips.
const SCALINGS: [number, number][] = [
  [1, 0],
  [2, -1],
  [-0.5, 3],
  [NaN, 5],
  [0, 7],
];

test('NIfTI-1/2 files load in nibabel with the written shape, dtype, scaling and header', (t) => {
  const python = pythonWith('nibabel');
  if (!python) return t.skip('no python3 with nibabel');
  withTempDir((dir) => {
    // 16 cases: every (version, gzip, byte order) twice, every datatype and scaling at least once.
    const cases = seq(16, (k) => {
      const datatype = DATATYPES[k % DATATYPES.length];
      const version: 1 | 2 = k & 1 ? 2 : 1;
      const gzip = (k & 2) !== 0;
      const littleEndian = (k & 4) === 0;
      const [sclSlope, sclInter] = SCALINGS[k % SCALINGS.length];
      const dims = k % 3 === 0 ? [4, 3, 2, 2] : [5, 4, 3];
      const kind = parseDescr(niftiDescr(datatype, true)).kind;
      const n = dims.reduce((a, b) => a * b, 1);
      const values = seq(n, (i) => {
        const v = ((i * 7) % 13) - (kind === 'u' ? 0 : 6);
        if (kind !== 'f') return v;
        return i === 3 ? NaN : i === 4 ? -0 : v * 0.5;
      });
      const affine =
        k % 2
          ? undefined
          : [
              [-1, 0, 0, 10],
              [0, 1, 0, -20],
              [0, 0, 2, 5],
              [0, 0, 0, 1],
            ];
      const path = join(dir, `case${k}.nii${gzip ? '.gz' : ''}`);
      const data = encodeVoxels(datatype, values, littleEndian);
      writeFileSync(
        path,
        encodeNifti({
          version,
          dims,
          datatype,
          data,
          littleEndian,
          sclSlope,
          sclInter,
          gzip,
          affine,
          pixdims: [2, 1.5, 1],
          extensions: [EXTENSION],
          description: DESCRIPTION,
        }),
      );
      const scaled = values.map((v) => (sclSlope === 0 || Number.isNaN(sclSlope) ? v : v * sclSlope + sclInter));
      return {
        path,
        version,
        datatype,
        littleEndian,
        dims,
        scaled,
        affine: affine ?? [
          [2, 0, 0, 0],
          [0, 1.5, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
      };
    });

    const results = check<NibabelResult[]>(
      python,
      dir,
      NIBABEL_CHECK,
      cases.map((c) => c.path),
    );
    const extHex = EXTENSION.data.toString('hex');
    cases.forEach((c, i) => {
      const got = results[i];
      const what = `case ${i} (NIfTI-${c.version}, datatype ${c.datatype}, ${c.littleEndian ? 'LE' : 'BE'})`;
      assert.deepEqual(got.shape, c.dims, `${what} shape`);
      assert.equal(got.descr, niftiDescr(c.datatype, c.littleEndian), `${what} dtype`);
      assertClose(
        got.sum,
        c.scaled.filter((v) => !Number.isNaN(v)).reduce((a, b) => a + b, 0),
        `${what} sum`,
      );
      assert.equal(got.positive, c.scaled.filter((v) => v > 0).length, `${what} voxels > 0`);
      assert.equal(got.sizeofHdr, c.version === 1 ? 348 : 540, `${what} sizeof_hdr`);
      assert.equal(got.voxOffset, (c.version === 1 ? 352 : 544) + 32, `${what} vox_offset`);
      assert.equal(got.descrip, DESCRIPTION, `${what} descrip`);
      assert.deepEqual(got.extensions, [[EXTENSION.code, extHex]], `${what} extensions`);
      assert.deepEqual(got.affine, c.affine, `${what} affine`);
    });
  });
});
