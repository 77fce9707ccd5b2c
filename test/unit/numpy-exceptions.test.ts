/**
 * Skipped or stopped: which exception numpy raises for each kind of damage, and so whether the
 * Python manifest builder (which catches only OSError and ValueError) skips the file or stops,
 * is measured here by running numpy (every numpy version this machine has) on damaged caches
 * through a reproduction of the builder's loop (test/reference/build_manifest.py), and compared
 * file by file with NeuroCache's classification. Nothing about numpy's behaviour is typed in.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ALL_PYTHON_EXCEPTIONS, builderCatches } from '../../server/src/engine/eeg/numpyLoad';
import { computeManifest, SkippedFile } from '../../server/src/service/buildManifest';
import { listNpz } from '../../server/src/service/npzListing';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { PoolOptions, WorkerPool } from '../../server/src/workers/pool';
import { cliPath, pythonsWith, repoRoot, runPython, tempDir } from '../support/python';
import { otherReaderDir } from '../support/temp';

const numpys = pythonsWith('numpy');
const skip = numpys.length === 0 && 'python3 with numpy not found';
const reference = () => path.join(repoRoot(), 'test', 'reference', 'build_manifest.py');

/** Writes one file per kind of damage (Python's own zipfile and numpy write them, then we break them). */
const DAMAGE = String.raw`
import io, os, struct, sys, zipfile
import numpy as np
out = sys.argv[1]
def put(name, data): open(os.path.join(out, name), 'wb').write(data)
def npy(arr, **kw):
    b = io.BytesIO(); np.save(b, arr, **kw); return b.getvalue()
def archive(members, method=zipfile.ZIP_STORED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', method) as z:
        for name, data in members.items(): z.writestr(name, data)
    return bytearray(b.getvalue())
def savez(compressed, **arrays):
    b = io.BytesIO(); (np.savez_compressed if compressed else np.savez)(b, **arrays); return bytearray(b.getvalue())
def data_offset(zipbytes, member):
    info = zipfile.ZipFile(io.BytesIO(bytes(zipbytes))).getinfo(member)
    n, e = struct.unpack('<HH', zipbytes[info.header_offset + 26: info.header_offset + 30])
    return info, info.header_offset + 30 + n + e
def header(text, version=1):
    t = text.encode('latin1'); t += b' ' * (63 - (10 + len(t)) % 64) + b'\n'
    return b'\x93NUMPY' + bytes([version, 0]) + struct.pack('<H', len(t)) + t
lab = np.zeros((3, 64), np.float32); lab[0, :5] = 1; lab[1] = 1
win = np.zeros((3, 2, 64), np.float32)
good = savez(True, windows=win, labels=lab)
put('good_compressed.npz', good)
put('good_stored.npz', savez(False, windows=win, labels=lab))
put('truncated_half.npz', good[: len(good) // 2])
put('truncated_end_record.npz', good[:-10])
put('empty.npz', b'')
put('._apple_double.npz', b'\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ' + bytes(60))
put('text.npz', b'not an archive at all')
put('plain_npy.npz', npy(lab))
stored = savez(False, windows=win, labels=lab)
info, at = data_offset(stored, 'labels.npy')
stored[at + info.file_size - 7] ^= 0xFF
put('bad_crc.npz', stored)
for label, where in (('middle', 0.5), ('start', 0.0)):
    broken = bytearray(good); info, at = data_offset(broken, 'labels.npy')
    broken[at + int(info.compress_size * where)] ^= 0x55; broken[at + int(info.compress_size * where) + 1] ^= 0xAA
    put(f'corrupt_deflate_{label}.npz', broken)
body = lab.tobytes()
put('header_malformed.npz', archive({'labels.npy': header("{'descr': float32, 'fortran_order': False, 'shape': (3, 64)}") + body}))
put('header_unbalanced.npz', archive({'labels.npy': header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 64), ") + body}))
put('header_unhashable_key.npz', archive({'labels.npy': header("{[1]: 2}") + body}))
put('header_not_dict.npz', archive({'labels.npy': header("[1, 2]") + body}))
put('header_wrong_keys.npz', archive({'labels.npy': header("{'descr': '<f4', 'shape': (3, 64)}") + body}))
put('header_bad_descr.npz', archive({'labels.npy': header("{'descr': 'zz9', 'fortran_order': False, 'shape': (3, 64)}") + body}))
put('header_negative_shape.npz', archive({'labels.npy': header("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 64)}") + body}))
put('header_version_9.npz', archive({'labels.npy': b'\x93NUMPY\x09\x00' + header("{}")[8:] + body}))
put('header_over_limit.npz', archive({'labels.npy': header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 64)}" + ' ' * 20000) + body}))
put('header_truncated.npz', archive({'labels.npy': header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 64)}")[:30]}))
put('labels_not_npy.npz', archive({'labels.npy': b'plain bytes, no magic'}))
put('labels_five_bytes.npz', archive({'labels.npy': b'\x93NUMP'}))
put('labels_object.npz', archive({'labels.npy': npy(np.array([[1, None]], dtype=object), allow_pickle=True)}))
put('labels_bzip2.npz', archive({'windows.npy': npy(win), 'labels.npy': npy(lab)}, zipfile.ZIP_BZIP2))
put('labels_lzma.npz', archive({'windows.npy': npy(win), 'labels.npy': npy(lab)}, zipfile.ZIP_LZMA))
put('labels_0d.npz', archive({'labels.npy': npy(np.float32(1))}))
put('labels_strings.npz', archive({'labels.npy': npy(np.array([['a', 'b']]))}))
put('labels_strings_no_windows.npz', archive({'labels.npy': npy(np.zeros((0, 2), 'U1'))}))
put('labels_records.npz', archive({'labels.npy': npy(np.zeros((2, 3), dtype=[('a', '<f4')]))}))
put('labels_datetimes.npz', archive({'labels.npy': npy(np.zeros((2, 3), 'M8[s]'))}))
put('labels_data_truncated.npz', archive({'labels.npy': npy(lab)[:-20]}))
put('labels_trailing_bytes.npz', archive({'windows.npy': npy(win), 'labels.npy': npy(lab) + b'\x00' * 64}))
for method, label in ((zipfile.ZIP_STORED, 'stored'), (zipfile.ZIP_DEFLATED, 'deflated')):
    trailing = archive({'labels.npy': npy(lab) + b'\x00' * 5000}, method)
    at = trailing.find(b'PK\x01\x02'); trailing[at + 16] ^= 0xFF
    put(f'trailing_bytes_bad_crc_{label}.npz', trailing)
put('labels_1d.npz', archive({'labels.npy': npy(np.array([0, 1, 0.5], np.float32))}))
put('labels_empty_windows.npz', archive({'labels.npy': npy(np.zeros((3, 0), np.float32))}))
put('labels_complex.npz', archive({'labels.npy': npy(np.array([[0, 1j], [-1, 0]], np.complex64))}))
put('labels_and_labels_npy.npz', archive({'labels': npy(np.ones((5, 4), np.float32)), 'labels.npy': npy(lab)}))
put('windows_only.npz', archive({'windows.npy': npy(win)}))
put('no_members.npz', archive({}))
put('windows_damaged_labels_fine.npz', archive({'windows.npy': b'junk', 'labels.npy': npy(lab)}))
encrypted = archive({'labels.npy': npy(lab)})
for signature, flags in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)):
    at = encrypted.find(signature); encrypted[at + flags] |= 1
put('encrypted.npz', encrypted)
method99 = archive({'labels.npy': npy(lab)})
for signature, field in ((b'PK\x03\x04', 8), (b'PK\x01\x02', 10)):
    at = method99.find(signature); method99[at + field: at + field + 2] = struct.pack('<H', 99)
put('compression_method_99.npz', method99)
renamed = archive({'labels.npy': npy(lab)}); renamed[renamed.find(b'PK\x03\x04') + 30] = ord('X')
put('local_name_differs.npz', renamed)
first_header = bytearray(good); first_header[0] = ord('X')
put('first_local_header_broken.npz', first_header)
put('garbage_before_archive.npz', b'GARBAGE!' + good)
os.mkdir(os.path.join(out, 'a_directory.npz'))
os.symlink('/nonexistent/cache.npz', os.path.join(out, 'dangling_link.npz'))
print('{}')
`;

type PythonOutcomes = { numpy: string; files: Record<string, string> };

/** Python's outcome per file, with the exception's class and base classes (numpy 2 raises a TypeError subclass). */
function measure(python: string, dir: string): PythonOutcomes {
  const script = `
import json, runpy, sys, warnings
from pathlib import Path
import numpy as np
warnings.simplefilter('ignore')
scan_one = runpy.run_path(sys.argv[1])['scan_one']
def classes(error):
    return ' '.join(k.__qualname__ if k.__module__ == 'builtins' else k.__module__ + '.' + k.__qualname__ for k in type(error).__mro__)
out = {}
for p in sorted(Path(sys.argv[2]).glob('*.npz')):
    try:
        r = scan_one(p)
    except Exception as error:
        out[p.name] = 'stops ' + classes(error)
        continue
    out[p.name] = 'windows %d' % len(r[1]) if r[0] == 'windows' else 'skipped ' + classes(r[1]) if r[0] == 'skipped' else 'no-labels'
print(json.dumps({'numpy': np.__version__, 'files': out}))
`;
  return runPython<PythonOutcomes>(python, script, [reference(), dir]);
}

/** NeuroCache's outcome per file, in the same words: what its build includes, and for the rest what it says Python does. */
async function classify(dir: string): Promise<Map<string, { outcome: string; exceptions: string[] }>> {
  const pool = new WorkerPool(2);
  try {
    const { text, result } = await computeManifest(dir, new CacheInspector(pool, new FingerprintStore()));
    const windows = new Map<string, number>();
    const manifest = JSON.parse(text) as Record<string, { cache_file: string }[]>;
    for (const entries of Object.values(manifest))
      for (const e of entries) windows.set(e.cache_file, (windows.get(e.cache_file) ?? 0) + 1);
    const out = new Map<string, { outcome: string; exceptions: string[] }>();
    const word: Record<SkippedFile['code'], string> = {
      'no-labels': 'no-labels',
      'unreadable-cache-file': 'skipped',
      'cache-file-stops-build': 'stops',
      'unsupported-cache-file': 'unsupported',
    };
    for (const s of result.skipped)
      out.set(s.name, {
        outcome: word[s.code],
        exceptions: [s.exception, olderNumpyException(s)].filter((e): e is string => !!e),
      });
    // Every other file the builder globs is read: its windows are in the manifest (maybe none).
    for (const name of await listNpz(dir))
      if (!out.has(name)) out.set(name, { outcome: `windows ${windows.get(name) ?? 0}`, exceptions: [] });
    return out;
  } finally {
    await pool.close();
  }
}

/** The manifest and build result of `dir` from a pool with `options` (one thread), and the files it read. */
async function built(dir: string, options: PoolOptions) {
  const pool = new WorkerPool(1, options);
  try {
    const { text, result } = await computeManifest(dir, new CacheInspector(pool, new FingerprintStore()));
    return { text, result, tasksRun: pool.tasksRun };
  } finally {
    await pool.close();
  }
}

/** The exception NeuroCache names for numpy 1.24 and older, from its "(numpy 1.24 and older raise X: ...)" text. */
function olderNumpyException(s: SkippedFile): string | undefined {
  return /numpy [\d.]+ and older raise (\S+):/.exec(s.python)?.[1];
}

test(
  'each kind of damage: NeuroCache names the exception numpy raises and whether the Python build skips or stops',
  { skip },
  async () => {
    const dir = tempDir();
    runPython(numpys[0].python, DAMAGE, [dir]);
    const ours = await classify(dir);
    // Read where they are counted (a local file system: synchronous reads on a thread, or on the
    // main thread), every file comes out the same as read on the main thread for the threads.
    const fetched = await built(dir, {});
    for (const options of [{ localReads: true }, { localReads: true, countHereBytes: Number.MAX_SAFE_INTEGER }]) {
      const local = await built(dir, options);
      assert.ok(local.tasksRun >= 45, `every file read (${local.tasksRun})`);
      assert.deepEqual(local.text, fetched.text, `the same manifest: ${JSON.stringify(options)}`);
      assert.deepEqual(local.result, fetched.result, `the same outcomes: ${JSON.stringify(options)}`);
    }
    const rows: string[] = [];
    for (const { python, version } of numpys) {
      const measured = measure(python, dir);
      assert.equal(measured.numpy, version);
      assert.ok(
        Object.keys(measured.files).length >= 45,
        `every kind of damage was written (${Object.keys(measured.files).length})`,
      );
      assert.deepEqual(
        [...ours.keys()].sort(),
        Object.keys(measured.files).sort(),
        'the same files, as the builder globs them',
      );
      for (const [name, python] of Object.entries(measured.files)) {
        const mine = ours.get(name)!;
        const [outcome, ...mro] = python.split(' ');
        const what = `${name}: numpy ${version} ${python} vs NeuroCache ${mine.outcome} ${mine.exceptions.join('/')}`;
        if (mine.outcome === 'unsupported') {
          assert.equal(outcome, 'windows', `${what} (NeuroCache cannot read it; numpy must)`);
        } else if (outcome === 'windows' || outcome === 'no-labels') {
          assert.equal(mine.outcome, python, what);
        } else {
          // The outcome may differ across numpy versions only where NeuroCache says so (olderNumpy).
          const named = mine.exceptions.find((e) => mro.includes(e));
          assert.ok(named, `${what}: the exception NeuroCache names is not what numpy raised`);
          assert.equal(builderCatches(named as never) ? 'skipped' : 'stops', outcome, what);
          if (named !== mine.exceptions[0])
            assert.notEqual(
              outcome,
              mine.outcome,
              `${what}: the older-numpy exception applies only when the outcome differs`,
            );
          else assert.equal(mine.outcome, outcome, what);
        }
        rows.push(
          `${name.padEnd(34)} numpy ${version.padEnd(7)} ${python.split(' ').slice(0, 2).join(' ').padEnd(34)} NeuroCache: ${mine.outcome} ${mine.exceptions.join(' / numpy <= 1.24: ')}`,
        );
      }
    }
    process.stdout.write(`measured exception table\n${rows.join('\n')}\n`);
  },
);

test(
  'the builder catches exactly the OSError and ValueError subclasses among the exceptions NeuroCache names',
  { skip },
  () => {
    const script = `
import json, sys, zipfile, zlib, tokenize
names = json.loads(sys.argv[1])
def resolve(name):
    module, _, attr = name.rpartition('.')
    return getattr(sys.modules[module] if module else __builtins__, attr)
print(json.dumps({n: issubclass(resolve(n), (OSError, ValueError)) for n in names}))
`;
    const caught = runPython<Record<string, boolean>>(numpys[0].python, script, [
      JSON.stringify(ALL_PYTHON_EXCEPTIONS),
    ]);
    for (const name of ALL_PYTHON_EXCEPTIONS) assert.equal(builderCatches(name), caught[name], name);
  },
);

test(
  'manifests are byte-identical to the Python builder on caches with label-less and damaged files',
  { skip },
  async () => {
    for (const { python, version } of numpys) {
      const dir = tempDir();
      // Files the builder skips or leaves out, around readable ones: Python writes a manifest.
      runPython(
        python,
        String.raw`
import io, sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(5)
for i in range(4):
    n = 3 + i
    lab = (rng.random((n, 256)) < rng.random((n, 1))).astype(np.float32); lab[0] = 0; lab[-1] = 1
    (np.savez_compressed if i % 2 else np.savez)(f"{out}/s{i}_windows.npz", windows=np.zeros((n, 2, 8), np.float32), labels=lab)
np.savez(f"{out}/nolabels_windows.npz", windows=np.zeros((3, 2, 8), np.float32))
np.savez(f"{out}/u_windows.npz", labels=np.array([[0, 1, 1, 1]], np.uint8), windows=np.zeros((1, 2, 8), np.float32))
open(f"{out}/._s0_windows.npz", "wb").write(b"\x00\x05\x16\x07" + bytes(80))
open(f"{out}/text_windows.npz", "wb").write(b"not a zip")
import os; os.mkdir(f"{out}/folder.npz")
print("{}")
`,
        [dir],
      );
      const store = tempDir();
      const build = spawnSync(process.execPath, [cliPath(), 'manifest', 'build', dir, '--json', '--cache-dir', store], {
        encoding: 'utf8',
      });
      assert.equal(build.status, 0, build.stderr);
      const expected = spawnSync(python, [reference(), dir], { encoding: 'utf8' });
      assert.equal(expected.status, 0, expected.stderr);
      assert.equal(readFileSync(path.join(dir, 'manifest.json'), 'utf8'), expected.stdout, `numpy ${version}`);
      const result = JSON.parse(build.stdout);
      assert.deepEqual(result.skipped.map((s: SkippedFile) => `${s.name} ${s.code}`).sort(), [
        '._s0_windows.npz unreadable-cache-file',
        'folder.npz unreadable-cache-file',
        'nolabels_windows.npz no-labels',
        'text_windows.npz unreadable-cache-file',
      ]);
      assert.equal(result.pythonStopsAt, null);

      // A file that stops Python's build: Python writes nothing; NeuroCache writes what Python
      // writes once that file is gone, and says where Python stops.
      writeFileSync(
        path.join(dir, 'm_truncated_windows.npz'),
        readFileSync(path.join(dir, 's1_windows.npz')).subarray(0, 100),
      );
      const stopped = spawnSync(python, [reference(), dir], { encoding: 'utf8' });
      assert.equal(stopped.status, 3);
      assert.match(stopped.stderr, /^STOPPED zipfile\.BadZipFile/);
      const again = spawnSync(process.execPath, [cliPath(), 'manifest', 'build', dir, '--json', '--cache-dir', store], {
        encoding: 'utf8',
      });
      assert.equal(again.status, 1, 'exit 1: the Python build would stop (the manifest is written all the same)');
      assert.deepEqual(JSON.parse(again.stdout).pythonStopsAt, {
        name: 'm_truncated_windows.npz',
        exception: 'zipfile.BadZipFile',
      });
      assert.equal(
        readFileSync(path.join(dir, 'manifest.json'), 'utf8'),
        expected.stdout,
        'the stopping file contributes nothing',
      );
      const text = spawnSync(process.execPath, [cliPath(), 'manifest', 'build', dir, '--cache-dir', store], {
        encoding: 'utf8',
      });
      assert.match(
        text.stderr,
        /skipped m_truncated_windows\.npz: .* \[cache-file-stops-build: numpy raises zipfile\.BadZipFile, which the Python builder does not catch/,
      );
      assert.match(text.stderr, /skipped nolabels_windows\.npz: no labels array \[no-labels: /);
      assert.match(text.stderr, /The Python builder would stop at m_truncated_windows\.npz \(zipfile\.BadZipFile\)/);
    }
  },
);

test('a file without read permission: PermissionError, which the builder catches (skipped)', { skip }, (t) => {
  // What the reader runs (the reference builder, the CLI's bundles) is copied where it can read it.
  const bundles = Object.fromEntries(
    ['cli.js', 'cli-main.js', 'cli-build.js', 'neurocache-worker.js', 'neurocache-npz-worker.js', 'worker.js'].map(
      (f) => [f, path.join(repoRoot(), 'out', f)],
    ),
  );
  const reader = otherReaderDir({ 'build_manifest.py': reference(), ...bundles });
  if (!reader) {
    t.skip('running as root and cannot switch to user nobody: a chmod 000 file would be readable');
    return;
  }
  const { dir: home, user } = reader;
  const dir = path.join(home, 'cache');
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  runPython(
    numpys[0].python,
    'import sys, numpy as np\nnp.savez(sys.argv[1] + "/locked_windows.npz", labels=np.zeros((2, 4), np.float32))\nnp.savez(sys.argv[1] + "/open_windows.npz", labels=np.ones((2, 4), np.float32))\nprint("{}")',
    [dir],
  );
  chmodSync(path.join(dir, 'locked_windows.npz'), 0o000);
  chmodSync(path.join(dir, 'open_windows.npz'), 0o644);
  for (const { python, version } of numpys) {
    const measured: { status: number | null; stdout: string; stderr: string } = spawnSync(
      python,
      [
        '-c',
        `import json, runpy, sys\nref = runpy.run_path(sys.argv[1])\nprint(json.dumps(ref['outcomes'](sys.argv[2])))`,
        path.join(home, 'build_manifest.py'),
        dir,
      ],
      { encoding: 'utf8', ...user },
    );
    assert.equal(measured.status, 0, measured.stderr);
    assert.deepEqual(
      JSON.parse(measured.stdout),
      { 'locked_windows.npz': 'skipped PermissionError', 'open_windows.npz': 'windows 2' },
      `numpy ${version}`,
    );
  }
  const store = path.join(dir, 'store');
  mkdirSync(store, { mode: 0o777 });
  chmodSync(store, 0o777);
  const build = spawnSync(
    process.execPath,
    [path.join(home, 'cli.js'), 'manifest', 'build', dir, '--json', '--cache-dir', store],
    { encoding: 'utf8', ...user },
  );
  assert.equal(build.status, 0, build.stderr);
  const skipped = JSON.parse(build.stdout).skipped as SkippedFile[];
  assert.deepEqual(
    skipped.map((s) => [s.name, s.code, s.exception]),
    [['locked_windows.npz', 'unreadable-cache-file', 'PermissionError']],
  );
});
