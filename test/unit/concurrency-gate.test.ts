/** The gate analyzeManifest asks for cache-file facts through: a bound on calls under way, in order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concurrencyGate } from '../../server/src/service/concurrencyGate';

test('no more than the limit run at once; the rest start in the order asked, each as one ends', async () => {
  const gate = concurrencyGate(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const finishers: (() => void)[] = [];
  const results = Array.from({ length: 40 }, (_, i) =>
    gate(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => finishers.push(resolve));
      running--;
      return i * 2;
    }),
  );
  assert.deepEqual(started, [0, 1, 2], 'only three start at once');
  // End them out of order: the waiting ones still start first-asked first.
  while (finishers.length) {
    finishers.splice(Math.floor(finishers.length / 2), 1)[0]();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(
    await Promise.all(results),
    Array.from({ length: 40 }, (_, i) => i * 2),
  );
  assert.deepEqual(
    started,
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.equal(most, 3);
});

test('a call that throws or rejects gives its slot back and its error to its caller', async () => {
  const gate = concurrencyGate(1);
  const thrown = gate(() => {
    throw new Error('at once');
  });
  const rejected = gate(() => Promise.reject(new Error('later')));
  const fine = gate(async () => 'ran');
  await assert.rejects(thrown, /at once/);
  await assert.rejects(rejected, /later/);
  assert.equal(await fine, 'ran');
  // The queue emptied: a new call starts at once.
  let ranAtOnce = false;
  const next = gate(async () => void (ranAtOnce = true));
  assert.ok(ranAtOnce);
  await next;
});
