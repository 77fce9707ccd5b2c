/**
 * The download journal: per finished shard, the sessions written (each file's size and
 * SHA-256) and the rows skipped, so an interrupted run resumes shard by shard. A journal
 * written for another repo, revision, filter or record format is not trusted.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RowProblem } from '../protocol';
import { writeFileAtomic } from '../service/atomic';
import type { Shard } from './listing';
import { fileMatches, JOURNAL_NAME, STATE_DIR } from './local';
import type { Breakdown } from './selection';

/** Bumped when the journal's records change: an older journal is not trusted, its shards are fetched again. */
const JOURNAL_FORMAT = 2;

/** One kept session, as recorded in the journal and in dataset_info.json. */
export interface SessionRecord {
  row: number;
  subject: string;
  session: string;
  acquisition: string;
  image: string;
  imageSize: number;
  imageSha256: string;
  mask: string | null;
  maskSize: number;
  maskSha256: string | null;
  lesionVolume: number;
}

export interface ShardRecord {
  size: number;
  oid: string;
  rows: Breakdown;
  sessions: SessionRecord[];
  problems: RowProblem[];
}

interface JournalData {
  key: string;
  shards: Record<string, ShardRecord>;
}

/** What the journal's records depend on: a journal for anything else starts afresh. */
export interface JournalScope {
  repo: string;
  revision: string;
  includeTse: boolean;
  requireMask: boolean;
}

export class DownloadJournal {
  /** Writes one after another (each the whole journal), so the last record is never lost to a slower earlier write. */
  private writing = Promise.resolve();

  private constructor(
    private readonly out: string,
    private readonly file: string,
    private readonly data: JournalData,
    private readonly confine: readonly string[],
  ) {}

  /**
   * The journal in `out`; `fresh` (--force) ignores it, so every shard is fetched and every file rewritten.
   * `confine`: the real folders its writes must land in (writeFileAtomic).
   */
  static async open(
    out: string,
    scope: JournalScope,
    fresh: boolean,
    confine: readonly string[],
  ): Promise<DownloadJournal> {
    const file = path.join(out, STATE_DIR, JOURNAL_NAME);
    const key = JSON.stringify([JOURNAL_FORMAT, scope.repo, scope.revision, scope.includeTse, scope.requireMask]);
    const loaded = fresh
      ? undefined
      : await fs.readFile(file, 'utf8').then(
          (t) => JSON.parse(t) as Partial<JournalData> | null,
          () => undefined,
        );
    const data =
      loaded?.key === key && typeof loaded.shards === 'object' && loaded.shards !== null
        ? (loaded as JournalData)
        : { key, shards: {} };
    return new DownloadJournal(out, file, data, confine);
  }

  /** A shard finished earlier, unchanged on the Hub, whose files all still hold what was written (size and SHA-256) is not fetched again. */
  async resumable(shard: Shard): Promise<ShardRecord | undefined> {
    const record = this.data.shards[shard.path];
    if (!record || record.size !== shard.size || record.oid !== shard.oid) return undefined;
    for (const s of record.sessions) {
      if (!(await fileMatches(path.join(this.out, s.image), s.imageSize, s.imageSha256))) return undefined;
      if (s.mask && !(await fileMatches(path.join(this.out, s.mask), s.maskSize, s.maskSha256 ?? ''))) return undefined;
    }
    return record;
  }

  /** Records a finished shard and writes the journal (atomically); resolves once written. */
  record(shardPath: string, record: ShardRecord): Promise<void> {
    this.data.shards[shardPath] = record;
    this.writing = this.writing.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, JSON.stringify(this.data), { confine: this.confine });
    });
    return this.writing;
  }

  /** Every write so far has finished (rejects with the first that failed). */
  written(): Promise<void> {
    return this.writing;
  }
}
