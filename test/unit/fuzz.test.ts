/**
 * Fuzzing the engine with damaged NPZ, NIfTI and JSON bytes (issue 10): truncation, bit flips,
 * overwritten fields (lying sizes, shapes, offsets, datatypes), inserted and deleted bytes, from
 * a seeded PRNG so every input can be replayed. Each input runs in a child process with a small
 * heap (--max-old-space-size) and is watched by the parent: a result or a FormatError is fine;
 * any other exception, a hang (no answer within the time limit) or memory beyond the limit fails
 * with the seed and index to reproduce it:
 *   NEUROCACHE_FUZZ_SEED=<seed> NEUROCACHE_FUZZ_ONLY=<index> node --test out/test/unit/fuzz.test.js
 * NEUROCACHE_FUZZ_INPUTS=<n> runs more inputs per format (default 400, a few seconds).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { checkDatasetInfo, datasetStats, parseDatasetInfo } from '../../server/src/engine/arc/datasetInfo';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { compositionDiagnostics, manifestStats } from '../../server/src/engine/eeg/composition';
import { checkManifest } from '../../server/src/engine/eeg/manifestCheck';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import { labelTrace, NpzSummary, summarizeNpz } from '../../server/src/engine/eeg/npz';
import { pythonJsonDumpsIndented } from '../../server/src/engine/json/pythonJsonDump';
import { FormatError, memorySource } from '../../server/src/engine/io/source';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { encodeValues, npyHeader } from '../writers/npy';
import { eegNpz, writeNpz } from '../writers/npz';
import { mulberry32 } from '../support/arcSamples';

const SEED = Number(process.env.NEUROCACHE_FUZZ_SEED ?? 20261123);
const INPUTS = Number(process.env.NEUROCACHE_FUZZ_INPUTS ?? 400);
const ONLY = process.env.NEUROCACHE_FUZZ_ONLY === undefined ? undefined : Number(process.env.NEUROCACHE_FUZZ_ONLY);
// Limits per input. Normal inputs take milliseconds; the limit only has to tell a hang from work.
const INPUT_TIME_LIMIT_MS = 20_000;
const HEAP_LIMIT_MB = 192;
const EXTERNAL_LIMIT_MB = 256;

// ---- deterministic inputs ---------------------------------------------------------------

/** mulberry32 (arcSamples.ts): the same sequence for the same seed everywhere. */
const prng = mulberry32;

type Random = ReturnType<typeof prng>;
const below = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[below(random, items.length)];

const labels = (windows: number, samples: number) =>
  new Float32Array(windows * samples).map((_, i) => (i % samples < (i / samples) * 7 ? 1 : 0));

/** A labels member whose `.npy` bytes are damaged, zipped with honest sizes and CRC: the damage reaches the array reader. */
function damagedMember(random: Random): Uint8Array {
  const [descr, size] = pick(random, [
    ['<f4', 4],
    ['|b1', 1],
    ['>u2', 2],
  ] as const);
  const npy = Buffer.concat([
    npyHeader(descr, [3, 16], random() < 0.3),
    new Uint8Array(3 * 16 * size).map((_, i) => (i % 5 ? 0 : 63)),
  ]);
  const member = mutate(random, npy.subarray(0, npy.length - (npy.length % 2)));
  return writeNpz([{ name: 'labels.npy', bytes: member }], { compress: random() < 0.5 });
}

function npzCorpus(random: Random): Uint8Array {
  const lyingShapes = [[1e8, 0], [1e15, 3], [2 ** 31, 2], [3, 2 ** 40], [0], [5, 0, 7], [2, 3]];
  switch (below(random, 5)) {
    case 0:
      return eegNpz({ windows: 3, channels: 2, samples: 64, labels: labels(3, 64), compress: random() < 0.5 });
    case 1: {
      const data = encodeValues(
        '|b1',
        new Uint8Array(4 * 32).map((_, i) => i % 3),
      );
      return writeNpz(
        [{ name: 'labels.npy', bytes: Buffer.concat([npyHeader('|b1', [4, 32], random() < 0.5), data]) }],
        { compress: random() < 0.5, zip64: random() < 0.5 },
      );
    }
    case 2: {
      // A shape of many windows over few bytes: the bytes it needs when that is few (an (n, 0) array
      // needs none), else a few that lie.
      const shape = pick(random, lyingShapes);
      const [descr, size] = pick(random, [
        ['<f4', 4],
        ['|u1', 1],
        ['>i8', 8],
      ] as const);
      const needed = shape.reduce((a, b) => a * b, 1) * size;
      const member = pick(random, ['labels.npy', 'windows.npy']);
      return writeNpz(
        [
          {
            name: member,
            bytes: Buffer.concat([
              npyHeader(descr, shape),
              new Uint8Array(needed <= 4096 ? needed : below(random, 64)),
            ]),
          },
        ],
        { compress: random() < 0.5 },
      );
    }
    case 3:
      return eegNpz({
        windows: 2,
        channels: 1,
        samples: 16,
        labels: labels(2, 16),
        labelsDescr: pick(random, ['<f8', '>i2', '|u1', '<c8']),
        compress: true,
      });
    default:
      return eegNpz({ windows: 1, channels: 1, samples: 8, labels: null });
  }
}

function niftiCorpus(random: Random): { bytes: Uint8Array; name: string } {
  const gzip = random() < 0.6;
  const version = random() < 0.5 ? 1 : 2;
  const datatype = pick(random, [2, 4, 16, 64, 512]);
  const dims = pick(random, [[6, 5, 4], [4, 4, 2, 2], [10]]);
  const count = dims.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count }, (_, i) => ((i * 7) % 5) - 1).map((v) =>
    datatype === 2 || datatype === 512 ? Math.abs(v) : v,
  );
  const bytes = encodeNifti({
    version,
    dims,
    datatype,
    data: encodeVoxels(datatype, values, random() < 0.7),
    littleEndian: undefined,
    gzip,
    sclSlope: pick(random, [1, 0, -2, NaN]),
    sclInter: pick(random, [0, 0.5]),
    extensions: random() < 0.3 ? [{ code: 6, data: new TextEncoder().encode('fuzz extension') }] : undefined,
  });
  return { bytes, name: gzip ? 'x_lesion.nii.gz' : 'x_lesion.nii' };
}

function jsonCorpus(random: Random): string {
  if (random() < 0.5) {
    const entry = (w: number) => ({
      cache_file: pick(random, ['a_windows.npz', 'b_windows.npz', '../x.npz']),
      window_idx: w,
    });
    return pythonJsonDumpsIndented({
      partial_seizure: [entry(0), entry(1)],
      full_seizure: [entry(2)],
      no_seizure: [entry(0), entry(5)],
    });
  }
  return JSON.stringify(
    {
      num_samples: 2,
      image_paths: ['cache/a_t2w.nii.gz', 'cache/b_t2w.nii.gz'],
      mask_paths: ['cache/a_lesion.nii.gz', null],
      lesion_volumes: [12, 0],
      acquisition_types: ['space_2x', 'turbo_spin_echo'],
      subject_ids: ['sub-1', 'sub-2'],
    },
    null,
    random() < 0.5 ? 2 : undefined,
  );
}

// Values that make sizes, counts and offsets lie.
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** None to three damages: cut, bit flips, overwritten fields, inserted or deleted bytes. */
function mutate(random: Random, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(input);
  // Some inputs stay as the corpus made them: its lying shapes are hostile on their own.
  for (let n = random() < 0.15 ? 0 : 1 + below(random, 3); n > 0 && bytes.length > 0; n--) {
    const at = below(random, bytes.length);
    switch (below(random, 5)) {
      case 0:
        bytes = bytes.subarray(0, at);
        break;
      case 1:
        for (let flips = 1 + below(random, 8); flips > 0; flips--)
          bytes[below(random, bytes.length)] ^= 1 << below(random, 8);
        break;
      case 2: {
        const width = pick(random, [1, 2, 4, 8]);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const value = pick(random, INTERESTING);
        for (let i = 0; i < width && at + i < bytes.length; i++)
          view.setUint8(at + i, (value >>> (8 * (i % 4))) & 0xff);
        break;
      }
      case 3: {
        const inserted = new Uint8Array(1 + below(random, 16)).map(() => below(random, 256));
        bytes = Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]);
        break;
      }
      default:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + below(random, 16))]);
    }
  }
  return bytes;
}

const FORMATS = ['npz', 'nifti', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** The input number `index` of a run: its own PRNG stream, so any one input replays alone. */
function inputFor(format: Format, index: number) {
  const random = prng(SEED ^ Math.imul(index + 1, 0x9e3779b1) ^ (FORMATS.indexOf(format) << 28));
  if (format === 'npz') return { bytes: random() < 0.3 ? damagedMember(random) : mutate(random, npzCorpus(random)) };
  if (format === 'nifti') {
    const { bytes, name } = niftiCorpus(random);
    // Half the damage lands inside the gzip stream, half in the image it holds (recompressed honestly).
    if (name.endsWith('.gz') && random() < 0.5) return { bytes: gzipSync(mutate(random, gunzipSync(bytes))), name };
    return { bytes: mutate(random, bytes), name };
  }
  return { text: new TextDecoder().decode(mutate(random, new TextEncoder().encode(jsonCorpus(random)))) };
}

// ---- what each input goes through --------------------------------------------------------

/** Runs the engine's entry points on one input; resolves to 'ok' or 'format-error'. */
async function exercise(format: Format, index: number): Promise<string> {
  const input = inputFor(format, index);
  const expectFormatErrors = async (work: () => Promise<unknown>) => {
    try {
      await work();
      return 'ok';
    } catch (error) {
      if (error instanceof FormatError) return 'format-error';
      throw error;
    }
  };
  if (format === 'npz') {
    return expectFormatErrors(async () => {
      const summary = await summarizeNpz(memorySource(input.bytes!));
      await labelTrace(memorySource(input.bytes!)).catch((e) => {
        if (!(e instanceof FormatError)) throw e;
      });
      checkAgainst(summary);
    });
  }
  if (format === 'nifti') {
    return expectFormatErrors(async () => {
      for (const countVoxels of [false, true])
        await summarizeNifti(memorySource(input.bytes!), { countVoxels, name: input.name, perSlice: countVoxels });
      await summarizeNifti(memorySource(input.bytes!), { countVoxels: false, slice: 1 }).catch((e) => {
        if (!(e instanceof FormatError)) throw e;
      });
    });
  }
  // JSON: parsing and checking never throw, whatever the text.
  const manifest = parseManifest(input.text!);
  const facts = manifest.files.map(() => ({ exists: true, summary: SAMPLE_SUMMARY }));
  checkManifest(manifest, {
    files: facts,
    directory: [{ name: 'a_windows.npz', facts: facts[0] ?? { exists: false } }],
  });
  if (manifest.isManifest)
    compositionDiagnostics(
      manifest,
      manifestStats(
        manifest,
        facts.map(() => true),
      ),
    );
  const info = parseDatasetInfo(input.text!);
  const pathFacts = info.samples.map(() => ({ resolved: '/x', how: 'relative' as const }));
  checkDatasetInfo(info, { images: pathFacts, masks: pathFacts, infoDir: '/' });
  datasetStats(info);
  return 'ok';
}

const SAMPLE_SUMMARY: NpzSummary = {
  windowCount: 3,
  hasLabels: true,
  positives: [0, 5, 10],
  samplesPerWindow: 10,
  notes: [],
  members: {},
};

/** A summary from hostile bytes goes on through the manifest checks. */
function checkAgainst(summary: NpzSummary): void {
  const text = JSON.stringify({
    partial_seizure: [
      { cache_file: 'f.npz', window_idx: 0 },
      { cache_file: 'f.npz', window_idx: 99999999 },
    ],
    full_seizure: [],
    no_seizure: [],
  });
  const parsed = parseManifest(text);
  checkManifest(parsed, {
    files: [{ exists: true, summary }],
    directory: [{ name: 'f.npz', facts: { exists: true, summary } }],
  });
}

// ---- child: runs inputs, reports each ------------------------------------------------------

async function child(): Promise<void> {
  const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const gc = (globalThis as { gc?: () => void }).gc;
  const indices = ONLY !== undefined ? [ONLY] : Array.from({ length: INPUTS }, (_, i) => i);
  for (const format of FORMATS) {
    for (const index of indices) {
      send({ start: index, format });
      try {
        const outcome = await exercise(format, index);
        if (index % 20 === 0) gc?.();
        const memory = process.memoryUsage();
        send({ done: index, format, outcome, externalMB: (memory.external + memory.arrayBuffers) / 2 ** 20 });
      } catch (error) {
        send({ crash: index, format, error: (error as Error)?.stack ?? String(error) });
        process.exit(1);
      }
    }
  }
  process.exit(0);
}

// ---- parent: watches the child ---------------------------------------------------------------

interface Report {
  outcomes: Record<string, number>;
  peakExternalMB: number;
}

function watch(): Promise<Report> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--expose-gc', __filename], {
      env: { ...process.env, NEUROCACHE_FUZZ_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report: Report = { outcomes: {}, peakExternalMB: 0 };
    let current = 'before the first input';
    let stderr = '';
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    const replay = (format: string, index: number) =>
      `${format} input ${index} (replay: NEUROCACHE_FUZZ_SEED=${SEED} NEUROCACHE_FUZZ_ONLY=${index})`;
    const fail = (message: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(message));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(`${current} did not finish within ${INPUT_TIME_LIMIT_MS} ms (hang)`),
        INPUT_TIME_LIMIT_MS,
      );
    };
    arm();
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    proc.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (message.start !== undefined) {
          current = replay(message.format, message.start);
          arm();
        } else if (message.crash !== undefined) {
          fail(`${replay(message.format, message.crash)} threw something other than a FormatError:\n${message.error}`);
        } else {
          report.outcomes[`${message.format} ${message.outcome}`] =
            (report.outcomes[`${message.format} ${message.outcome}`] ?? 0) + 1;
          report.peakExternalMB = Math.max(report.peakExternalMB, message.externalMB);
          if (message.externalMB > EXTERNAL_LIMIT_MB)
            fail(
              `${replay(message.format, message.done)} left ${message.externalMB.toFixed(0)} MB of buffers (limit ${EXTERNAL_LIMIT_MB})`,
            );
        }
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(report);
      else
        reject(
          new Error(
            `the fuzz child died (${signal ?? `exit ${code}`}) during ${current}: out of memory beyond the ${HEAP_LIMIT_MB} MB heap?\n${stderr.slice(-2000)}`,
          ),
        );
    });
  });
}

if (process.env.NEUROCACHE_FUZZ_CHILD) {
  void child();
} else {
  test(`fuzz: ${INPUTS} damaged inputs per format, each bounded in time and memory (seed ${SEED})`, async () => {
    const report = await watch();
    const total = Object.values(report.outcomes).reduce((a, b) => a + b, 0);
    assert.equal(total, (ONLY !== undefined ? 1 : INPUTS) * FORMATS.length);
    // The damage must reach past the first check: some inputs still read, some fail with a FormatError.
    if (ONLY === undefined) {
      for (const format of ['npz', 'nifti']) {
        assert.ok(
          report.outcomes[`${format} ok`] > 0 && report.outcomes[`${format} format-error`] > 0,
          JSON.stringify(report.outcomes),
        );
      }
    }
    process.stdout.write(
      `# fuzz outcomes ${JSON.stringify(report.outcomes)}, peak buffers ${report.peakExternalMB.toFixed(1)} MB\n`,
    );
  });
}
