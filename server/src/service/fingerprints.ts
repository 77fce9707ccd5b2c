/**
 * Results per cache file keyed by (absolute path, size, mtime), persisted outside the data
 * directory, so re-checking an unchanged cache reads no file contents and any change re-reads
 * exactly the files that changed. Bounded: a result over MAX_RECORD_BYTES is not kept, beyond
 * MAX_STORE_BYTES the least recently written files go, and a store file over the bound (or
 * damaged, or not a regular file) is ignored rather than loaded.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic';
import { makeDirectory } from './makeDirectory';
import { readRegularText } from './regularFile';

// 2: values held as compact JSON text (long runs of equal numbers folded), sizes bounded.
const FORMAT = 2;
// Files remembered at most; the least recently written go first, so the store cannot grow without bound.
const MAX_FILES = 250_000;
/** A result larger than this is not remembered (recomputed when asked again); thousands of windows fit. */
export const MAX_RECORD_BYTES = 256 << 10;
/** The whole store; beyond it the least recently written files are dropped. A larger store file is not loaded. */
export const MAX_STORE_BYTES = 64 << 20;
// A folded run never expands past this many numbers (a corrupt store must not claim 10^12 zeros).
const MAX_UNFOLDED = 1 << 22;
// Arrays shorter than this are written as they are.
const FOLD_FROM = 16;

/** A record as the store file holds it. */
interface SavedRecord {
  size: number;
  mtimeMs: number;
  /** What was computed (e.g. "npz", "nifti-header", "nifti-count"). */
  kind: string;
  /** The result as compact JSON (see `compact`). */
  value: string;
}

/**
 * A record in memory: its compact JSON until it is first read, then the result itself (`text`
 * undefined), which is what the caller's facts hold anyway; a result set in this session is held
 * the same way. A 1M-entry manifest's language server held the text of its 35,000 records beside
 * their facts: ~15 MB more at its peak. `bytes`: the compact JSON's length, for the bounds.
 */
interface Record {
  size: number;
  mtimeMs: number;
  kind: string;
  bytes: number;
  text?: string;
  value?: unknown;
}

/** `$NEUROCACHE_CACHE_DIR`, else `$XDG_CACHE_HOME/neurocache`, else `~/.cache/neurocache`. */
export function defaultStoreDirectory(): string {
  if (process.env.NEUROCACHE_CACHE_DIR) return process.env.NEUROCACHE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'neurocache');
}

/**
 * JSON where an array of numbers with long runs (per-window positives: mostly 0, or all full)
 * becomes {"$runs": [value, count, ...]}: 60 windows of no seizure cost 20 bytes, not 120.
 */
function compact(value: unknown): string {
  return JSON.stringify(value, (key, item: unknown) => {
    if (key === '$runs' || !Array.isArray(item) || item.length < FOLD_FROM || !item.every((x) => typeof x === 'number'))
      return item;
    const runs: number[] = [];
    for (let i = 0; i < item.length;) {
      let j = i + 1;
      while (j < item.length && Object.is(item[j], item[i])) j++;
      runs.push(item[i] as number, j - i);
      i = j;
    }
    return runs.length < item.length ? { $runs: runs } : item;
  });
}

class CorruptRecord extends Error {}

/**
 * The value `compact` wrote. Parsed plainly, then unfolded bottom-up as a JSON.parse reviver
 * would (an object with a `$runs` array becomes the numbers it folds): V8 calls a reviver for
 * every value, and the 40,298 records of the bench's largest cache took 0.8 s of CPU to expand
 * that way, 0.2-0.4 s like this.
 */
function expand(text: string): unknown {
  const budget = { unfolded: 0 };
  return unfold(JSON.parse(text), budget);
}

function unfold(item: unknown, budget: { unfolded: number }): unknown {
  if (item === null || typeof item !== 'object') return item;
  if (Array.isArray(item)) {
    for (let i = 0; i < item.length; i++) item[i] = unfold(item[i], budget);
    return item;
  }
  const object = item as { [key: string]: unknown };
  for (const key of Object.keys(object)) {
    const value = object[key];
    const next = unfold(value, budget);
    // An own data property, as a reviver sets it (a "__proto__" key included).
    if (next !== value)
      Object.defineProperty(object, key, { value: next, writable: true, enumerable: true, configurable: true });
  }
  const runs = object.$runs;
  if (!Array.isArray(runs)) return object;
  const out: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const value: unknown = runs[i];
    const count: unknown = runs[i + 1];
    budget.unfolded += count as number;
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(count) ||
      (count as number) < 0 ||
      budget.unfolded > MAX_UNFOLDED
    )
      throw new CorruptRecord();
    for (let k = 0; k < (count as number); k++) out.push(value);
  }
  return out;
}

function isSavedRecord(r: unknown): r is SavedRecord {
  const x = r as SavedRecord;
  return (
    !!x &&
    typeof x.size === 'number' &&
    typeof x.mtimeMs === 'number' &&
    typeof x.kind === 'string' &&
    typeof x.value === 'string'
  );
}

/** Bytes a file's entry takes in the saved store, near enough for the bound. */
function entryBytes(file: string, records: Record[]): number {
  return records.reduce((n, r) => n + r.bytes + r.kind.length + 64, file.length + 8);
}

/** A record as the store file is to hold it. */
function saved({ size, mtimeMs, kind, text, value }: Record): SavedRecord {
  return { size, mtimeMs, kind, value: text ?? compact(value) };
}

/** Characters of the store file's text made at a time (storeText). */
const SAVE_PIECE = 1 << 20;

/**
 * The store file's text, JSON.stringify({ format, records }) exactly, made a piece at a time as
 * it is written: a language server's 40,000-file store is ~20 MB of JSON, and building it whole
 * (with its values compacted again) raised the server's peak by ~80 MB (the bench's 1M-entry
 * manifest, hovers rendering new pictures: 501 MB, against 392 with nothing new to save).
 * The keys are absolute paths, never array indices, so an object would keep them in this order.
 */
function* storeText(entries: [string, Record[]][]): Generator<string> {
  let piece = `{"format":${FORMAT},"records":{`;
  for (let i = 0; i < entries.length; i++) {
    const [file, kept] = entries[i];
    piece += `${i ? ',' : ''}${JSON.stringify(file)}:${JSON.stringify(kept.map(saved))}`;
    if (piece.length >= SAVE_PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}}}`;
}

/** What a result is keyed by besides its path: a node:fs Stats, or the stamp an fstat on the open file gave. */
export interface Stamp {
  size: number;
  mtimeMs: number;
}

export interface StoreLimits {
  recordBytes: number;
  storeBytes: number;
}

export class FingerprintStore {
  private records = new Map<string, Record[]>();
  private bytes = 0;
  private dirty = false;
  /** The save under way (or the last one, settled): the next follows it. */
  private saving: Promise<void> = Promise.resolve();
  /** A save asked for and not started yet, which later requests share. */
  private queued?: Promise<void>;

  /** `file` undefined keeps results in memory only. */
  constructor(
    readonly file?: string,
    private readonly limits: StoreLimits = { recordBytes: MAX_RECORD_BYTES, storeBytes: MAX_STORE_BYTES },
  ) {}

  static inDirectory(directory: string): FingerprintStore {
    return new FingerprintStore(path.join(directory, `fingerprints-v${FORMAT}.json`));
  }

  /** Total size of what `save` writes (approximately). */
  get sizeInBytes(): number {
    return this.bytes;
  }

  async load(): Promise<void> {
    if (!this.file) return;
    let data: { format?: unknown; records?: unknown };
    try {
      // Regular files only, and bounded: a damaged or foreign store is never loaded into gigabytes.
      data = JSON.parse(await readRegularText(this.file, this.limits.storeBytes + (this.limits.storeBytes >> 2)));
    } catch {
      return; // missing, damaged or oversized: start empty; it is only a cache, rewritten on save
    }
    if (data?.format !== FORMAT || !data.records || typeof data.records !== 'object') return;
    for (const [file, records] of Object.entries(data.records as object)) {
      if (Array.isArray(records))
        this.put(
          file,
          records
            .filter((r) => isSavedRecord(r) && r.value.length <= this.limits.recordBytes)
            .map(({ size, mtimeMs, kind, value }: SavedRecord) => ({
              size,
              mtimeMs,
              kind,
              bytes: value.length,
              text: value,
            })),
        );
    }
  }

  /** Whether a result of `kind` is remembered for `file` at all (whatever its stamp): a stat is then worth asking before reading. */
  knows(file: string, kind: string): boolean {
    return this.records.get(file)?.some((r) => r.kind === kind) ?? false;
  }

  get<T>(file: string, stat: Stamp, kind: string): T | undefined {
    const record = this.records.get(file)?.find((r) => r.kind === kind);
    if (!record || record.size !== stat.size || record.mtimeMs !== stat.mtimeMs) return undefined;
    if (record.text === undefined) return record.value as T;
    try {
      record.value = expand(record.text);
    } catch {
      return undefined; // a damaged record: recomputed, then overwritten
    }
    record.text = undefined;
    return record.value as T;
  }

  set(file: string, stat: Stamp, kind: string, value: unknown): void {
    const kept = (this.records.get(file) ?? []).filter(
      (r) => r.kind !== kind && r.size === stat.size && r.mtimeMs === stat.mtimeMs,
    );
    const bytes = compact(value).length;
    if (bytes <= this.limits.recordBytes) kept.push({ size: stat.size, mtimeMs: stat.mtimeMs, kind, bytes, value });
    this.put(file, kept);
    this.dirty = true;
  }

  /** Re-inserting moves the file to the end of the Map's order: the oldest writes are first, and go first. */
  private put(file: string, records: Record[]): void {
    this.drop(file);
    if (records.length) {
      this.records.set(file, records);
      this.bytes += entryBytes(file, records);
    }
    while (this.records.size > MAX_FILES || this.bytes > this.limits.storeBytes)
      this.drop(this.records.keys().next().value!);
  }

  private drop(file: string): void {
    const old = this.records.get(file);
    if (!old) return;
    this.bytes -= entryBytes(file, old);
    this.records.delete(file);
  }

  /**
   * Writes what changed since the last save. One write at a time: a save asked for while one is
   * under way follows it and writes only if something changed since that one took its snapshot
   * (a build saves as soon as it has counted, and again on its way out); saves asked for before
   * it starts share it, so a server saving after every check never queues more than one.
   */
  save(): Promise<void> {
    if (!this.queued) {
      const queued = this.saving.then(() => {
        this.queued = undefined;
        return this.write();
      });
      this.queued = queued;
      this.saving = queued.catch(() => undefined);
    }
    return this.queued;
  }

  private async write(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await makeDirectory(path.dirname(this.file));
    // The snapshot is taken here, at once: a record put after it marks the store dirty again.
    const entries = [...this.records];
    this.dirty = false;
    try {
      await writeFileAtomic(this.file, storeText(entries), { ownFile: true });
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }
}
