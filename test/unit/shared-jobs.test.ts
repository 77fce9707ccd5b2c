import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedJobs } from '../../server/src/workers/sharedJobs';

/** A job that runs until `finish` is called, recording how often it started and whether it was told to stop. */
function controlledJob() {
  const seen = { starts: 0, aborted: false };
  let finish!: (value: string) => void;
  const job = (signal: AbortSignal) => {
    seen.starts++;
    signal.addEventListener('abort', () => (seen.aborted = true));
    return new Promise<string>((resolve) => (finish = resolve));
  };
  return { seen, job, finish: (value: string) => finish(value) };
}

test('callers of one key share one run of the job, and a later call after it settled runs it again', async () => {
  const jobs = new SharedJobs<string>();
  const { seen, job, finish } = controlledJob();
  const a = jobs.run('k', undefined, job);
  const b = jobs.run('k', new AbortController().signal, job);
  assert.equal(jobs.size, 1);
  finish('done');
  assert.deepEqual(await Promise.all([a, b]), ['done', 'done']);
  assert.equal(seen.starts, 1);
  assert.equal(jobs.size, 0);
  const again = controlledJob();
  const c = jobs.run('k', undefined, again.job);
  again.finish('again');
  assert.equal(await c, 'again');
});

test('a caller that gives up stops waiting at once; the job stops only when every caller has', async () => {
  const jobs = new SharedJobs<string>();
  const { seen, job, finish } = controlledJob();
  const first = new AbortController();
  const second = new AbortController();
  const a = jobs.run('k', first.signal, job);
  const b = jobs.run('k', second.signal, job);
  first.abort(new Error('first gave up'));
  await assert.rejects(a, /first gave up/);
  assert.equal(seen.aborted, false, 'the second caller still waits for it');
  second.abort(new Error('second gave up'));
  await assert.rejects(b, /second gave up/);
  assert.equal(seen.aborted, true);
  assert.equal(jobs.size, 0, 'a job every caller left is forgotten at once');
  finish('late'); // settles nobody's promise, and no unhandled rejection follows
});

test('a caller without a signal keeps the job running when the others give up', async () => {
  const jobs = new SharedJobs<string>();
  const { seen, job, finish } = controlledJob();
  const giveUp = new AbortController();
  const a = jobs.run('k', giveUp.signal, job);
  const b = jobs.run('k', undefined, job);
  giveUp.abort(new Error('gave up'));
  await assert.rejects(a, /gave up/);
  assert.equal(seen.aborted, false);
  finish('kept');
  assert.equal(await b, 'kept');
});

test('a signal already aborted is refused without starting anything', async () => {
  const jobs = new SharedJobs<string>();
  const { seen, job } = controlledJob();
  const aborted = AbortSignal.abort(new Error('before'));
  await assert.rejects(jobs.run('k', aborted, job), /before/);
  assert.equal(seen.starts, 0);
  assert.equal(jobs.size, 0);
});
