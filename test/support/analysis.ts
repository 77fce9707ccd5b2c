/** Narrowing an analysis in a test by asserting its kind, so the assertions after it always run. */
import assert from 'node:assert/strict';
import type { Analysis } from '../../server/src/service/analyze';

export function assertKind<K extends Analysis['kind']>(
  analysis: Analysis,
  kind: K,
): asserts analysis is Extract<Analysis, { kind: K }> {
  assert.equal(analysis.kind, kind);
}
