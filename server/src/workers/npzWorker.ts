/**
 * The worker bundle for NPZ counting (out/neurocache-npz-worker.js): a thread that only counts
 * caches, as a build's threads do, loads this and none of the NIfTI, picture or deep-check code.
 */
import { countLocalNpz, countNpz } from './npzTask';
import type { Task } from './tasks';

export default function run(task: Extract<Task, { kind: 'npz' | 'npz-local' }>) {
  return task.kind === 'npz' ? countNpz(task) : countLocalNpz(task);
}
