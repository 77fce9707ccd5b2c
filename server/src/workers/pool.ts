/**
 * The worker pool (piscina) every file read goes through. Bounded concurrency (default: one
 * thread per core), cancellable through AbortSignal, and identical in-flight jobs collapse
 * into one.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import type { LabelTrace, NiftiResult, NpzResult, Task, TaskResult } from './tasks';

/** The bundled worker sits next to the bundle that starts the pool (out/), or above it (out/test/unit/). */
export function workerScript(): string {
  const candidates = ['.', '..', '../..'].map((up) => path.join(__dirname, up, 'neurocache-worker.js'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`NeuroCache worker bundle not found (looked in ${candidates.join(', ')}); run npm run build`);
  return found;
}

export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly inFlight = new Map<string, Promise<TaskResult<unknown>>>();
  /** Bytes of cache-file content the workers have read, for tests and benchmarks. */
  bytesRead = 0;
  tasksRun = 0;

  constructor(readonly threads = availableParallelism()) {
    this.piscina = new Piscina({ filename: workerScript(), minThreads: Math.max(1, threads), maxThreads: Math.max(1, threads), idleTimeout: 2000 });
  }

  npz(file: string, signal?: AbortSignal): Promise<NpzResult> {
    return this.run({ kind: 'npz', path: file }, signal) as Promise<NpzResult>;
  }

  windowCount(file: string, signal?: AbortSignal): Promise<TaskResult<number>> {
    return this.run({ kind: 'window-count', path: file }, signal) as Promise<TaskResult<number>>;
  }

  nifti(file: string, countVoxels: boolean, signal?: AbortSignal): Promise<NiftiResult> {
    return this.run({ kind: 'nifti', path: file, countVoxels }, signal) as Promise<NiftiResult>;
  }

  labelTrace(file: string): Promise<TaskResult<LabelTrace>> {
    return this.run({ kind: 'label-trace', path: file }) as Promise<TaskResult<LabelTrace>>;
  }

  lesionPicture(mask: string, image: string): Promise<TaskResult<string>> {
    return this.run({ kind: 'lesion-picture', path: mask, image }) as Promise<TaskResult<string>>;
  }

  /** Voxels > 0 of a mask (the lesion volume), or an error naming the file. */
  async lesionVolume(file: string, signal?: AbortSignal): Promise<number> {
    const counted = await this.nifti(file, true, signal);
    if (!counted.ok) throw new Error(`${path.basename(file)}: ${counted.error}`);
    return counted.value.positiveVoxels ?? 0;
  }

  private run(task: Task, signal?: AbortSignal): Promise<TaskResult<unknown>> {
    const key = JSON.stringify(task);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const job = (this.piscina.run(task, { signal }) as Promise<TaskResult<unknown>>)
      .then((result) => {
        this.bytesRead += result.bytesRead;
        this.tasksRun++;
        return result;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, job);
    return job;
  }

  /** Distinct tasks handed to the threads and not yet settled. */
  get tasksInFlight(): number {
    return this.inFlight.size;
  }

  /** Threads the pool holds now (a terminated thread leaves at once, even before it has stopped). */
  get threadCount(): number {
    return this.piscina.threads.length;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
