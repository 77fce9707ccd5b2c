/**
 * The whole-manifest findings training acts on: `no-partial-windows` (training refuses to
 * start), `low-seizure-ratio` (it warns below 0.1%) and `stale-manifest` (over 5% missing:
 * it rescans), each on the right key with its limit in the words, and the same in `stats`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compositionDiagnostics, DEFAULT_COMPOSITION, manifestStats } from '../../server/src/engine/eeg/composition';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import { manifestReport } from '../../server/src/engine/report';

const entries = (n: number, file = 'a_windows.npz') =>
  Array.from({ length: n }, (_, i) => ({ cache_file: file, window_idx: i }));

function findings(manifest: object, settings = DEFAULT_COMPOSITION, missing: string[] = []) {
  const text = JSON.stringify(manifest, null, 2);
  const parsed = parseManifest(text);
  const stats = manifestStats(
    parsed,
    parsed.files.map((f) => !missing.includes(f)),
    settings,
  );
  const diagnostics = compositionDiagnostics(parsed, stats).map((d) => ({
    code: d.code,
    severity: d.severity,
    on: text.slice(d.offset, d.offset + d.length),
    message: d.message,
  }));
  return { diagnostics, report: manifestReport(stats) };
}

test('no partial windows: an error on "partial_seizure", training refuses to start', () => {
  const { diagnostics, report } = findings({ no_seizure: entries(40), full_seizure: entries(3), partial_seizure: [] });
  assert.deepEqual(diagnostics, [
    {
      code: 'no-partial-windows',
      severity: 'error',
      on: '"partial_seizure"',
      message: 'No partial seizure windows: training refuses to start.',
    },
  ]);
  assert.ok(report.includes('No partial seizure windows: training refuses to start'));
});

test('a balanced seizure ratio below 0.1% warns on "partial_seizure"; at 0.1% or above it does not', () => {
  // One partial window and 2,000 background windows per partial one: 1 / 2,001 = 0.05%.
  const low = findings(
    { partial_seizure: entries(1, 'p.npz'), full_seizure: [], no_seizure: entries(3000) },
    { ...DEFAULT_COMPOSITION, backgroundRatio: 2000 },
  );
  assert.deepEqual(low.diagnostics, [
    {
      code: 'low-seizure-ratio',
      severity: 'warning',
      on: '"partial_seizure"',
      message: 'Balanced seizure ratio 0.0500% is below 0.1%: training warns and will learn little.',
    },
  ]);
  assert.ok(low.report.includes('Seizure ratio below 0.1%: training warns'));
  // 1 / 999 = 0.1001%: just above the limit.
  assert.deepEqual(
    findings(
      { partial_seizure: entries(1, 'p.npz'), full_seizure: [], no_seizure: entries(3000) },
      { ...DEFAULT_COMPOSITION, backgroundRatio: 998 },
    ).diagnostics,
    [],
  );
  // The default composition keeps the ratio far above it.
  assert.deepEqual(
    findings({ partial_seizure: entries(1, 'p.npz'), full_seizure: [], no_seizure: entries(3000) }).diagnostics,
    [],
  );
});

test('more than 5% of entries with missing files: stale-manifest names the limit', () => {
  const stale = findings(
    {
      partial_seizure: entries(10, 'p.npz'),
      full_seizure: [],
      no_seizure: [...entries(18), ...entries(2, 'gone.npz')],
    },
    DEFAULT_COMPOSITION,
    ['gone.npz'],
  );
  assert.equal(stale.diagnostics[0].code, 'stale-manifest');
  assert.match(stale.diagnostics[0].message, /2 of 30 entries \(6\.67%\) reference missing files, over the 5% limit/);
  assert.ok(stale.report.some((l) => l.endsWith('over 5%: training discards the manifest and rescans the cache')));
  // Exactly 5% is not over it.
  assert.deepEqual(
    findings(
      {
        partial_seizure: entries(10, 'p.npz'),
        full_seizure: [],
        no_seizure: [...entries(9), ...entries(1, 'gone.npz')],
      },
      DEFAULT_COMPOSITION,
      ['gone.npz'],
    ).diagnostics,
    [],
  );
});
