/**
 * Results per cache file keyed by (absolute path, size, mtime), persisted outside the data
 * directory, so re-checking an unchanged cache reads no file contents and any change re-reads
 * exactly the files that changed.
 */
import { promises as fs, Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic';

const FORMAT = 1;
// Files remembered at most; the least recently written go first, so the store cannot grow without bound.
const MAX_FILES = 250_000;

interface Record {
  size: number;
  mtimeMs: number;
  /** What was computed (e.g. "npz", "nifti-header", "nifti-count"). */
  kind: string;
  value: unknown;
}

/** `$NEUROCACHE_CACHE_DIR`, else `$XDG_CACHE_HOME/neurocache`, else `~/.cache/neurocache`. */
export function defaultStoreDirectory(): string {
  if (process.env.NEUROCACHE_CACHE_DIR) return process.env.NEUROCACHE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'neurocache');
}

export class FingerprintStore {
  private records = new Map<string, Record[]>();
  private dirty = false;

  /** `file` undefined keeps results in memory only. */
  constructor(readonly file?: string) {}

  static inDirectory(directory: string): FingerprintStore {
    return new FingerprintStore(path.join(directory, `fingerprints-v${FORMAT}.json`));
  }

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const data = JSON.parse(await fs.readFile(this.file, 'utf8'));
      if (data?.format === FORMAT && data.records && typeof data.records === 'object') this.records = new Map(Object.entries(data.records));
    } catch {
      // Missing or damaged store: start empty; it is only a cache.
    }
  }

  get<T>(file: string, stat: Stats, kind: string): T | undefined {
    const record = this.records.get(file)?.find((r) => r.kind === kind);
    return record && record.size === stat.size && record.mtimeMs === stat.mtimeMs ? (record.value as T) : undefined;
  }

  set(file: string, stat: Stats, kind: string, value: unknown): void {
    const kept = (this.records.get(file) ?? []).filter((r) => r.kind !== kind && r.size === stat.size && r.mtimeMs === stat.mtimeMs);
    kept.push({ size: stat.size, mtimeMs: stat.mtimeMs, kind, value });
    // Re-inserting moves the file to the end of the Map's order: the oldest writes are first.
    this.records.delete(file);
    this.records.set(file, kept);
    if (this.records.size > MAX_FILES) this.records.delete(this.records.keys().next().value!);
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, records: Object.fromEntries(this.records) }));
    this.dirty = false;
  }
}
