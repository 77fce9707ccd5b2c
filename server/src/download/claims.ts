/**
 * Which row keeps a file name when rows collide — a repeated subject+session, or ids that join
 * to the same name (`sub-A_ses-1` + `x` and `sub-A` + `ses-1_x`): the first in (shard, row)
 * order, whatever order the parallel shards run in. So a row first waits until every earlier
 * shard has announced its ids, then until every earlier row with its name is settled (kept, or
 * left out by a filter or a bad byte). Collisions are rare; only colliding rows ever wait.
 */
import type { RowProblem } from '../protocol';
import type { SessionRecord } from './journal';
import { collisionKey, idProblem } from './rows';

/** The row that kept a name, for the message about the row that lost it. */
export interface Holder {
  shard: string;
  row: number;
  subject: string;
  session: string;
}

interface Claimant {
  shard: number;
  row: number;
  settled: Promise<Holder | undefined>;
  settle(holder: Holder | undefined): void;
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export class NameClaims {
  private readonly byKey = new Map<string, Claimant[]>();
  private readonly announced: { promise: Promise<void>; resolve(): void }[];
  private readonly aborted: Promise<never>;

  /** `signal` ends every wait when the download stops (a failed shard never settles its rows). */
  constructor(shards: number, signal: AbortSignal) {
    this.announced = Array.from({ length: shards }, () => deferred<void>());
    this.aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    this.aborted.catch(() => undefined);
  }

  /** Shard `shard`'s rows, by row number: the collision key, or undefined for rows that cannot name files. */
  announce(shard: number, keys: (string | undefined)[]): void {
    keys.forEach((key, row) => key !== undefined && this.add(key, shard, row));
    this.announced[shard].resolve();
  }

  /** A shard resumed from the journal: only its kept rows, settled already. */
  announceKept(shard: number, kept: { key: string; holder: Holder }[]): void {
    for (const { key, holder } of kept) this.add(key, shard, holder.row).settle(holder);
    this.announced[shard].resolve();
  }

  /** Row `row` of `shard` kept its name (`holder`) or not (undefined). */
  settle(shard: number, row: number, key: string, holder: Holder | undefined): void {
    this.byKey
      .get(key)
      ?.find((c) => c.shard === shard && c.row === row)
      ?.settle(holder);
  }

  /** The earlier row that kept `key`, if any. */
  async earlierHolder(shard: number, row: number, key: string): Promise<Holder | undefined> {
    await Promise.race([Promise.all(this.announced.slice(0, shard).map((a) => a.promise)), this.aborted]);
    for (const claimant of this.byKey.get(key) ?? []) {
      if (claimant.shard > shard || (claimant.shard === shard && claimant.row >= row)) break;
      const holder = await Promise.race([claimant.settled, this.aborted]);
      if (holder) return holder;
    }
    return undefined;
  }

  private add(key: string, shard: number, row: number): Claimant {
    const { promise, resolve } = deferred<Holder | undefined>();
    const claimant: Claimant = { shard, row, settled: promise, settle: resolve };
    const list = this.byKey.get(key) ?? [];
    // Kept in (shard, row) order; lists hold one entry unless rows collide.
    const at = list.findIndex((c) => c.shard > shard || (c.shard === shard && c.row > row));
    list.splice(at < 0 ? list.length : at, 0, claimant);
    this.byKey.set(key, list);
    return claimant;
  }
}

/** The collision key of a row whose ids can name files, else undefined. */
export function claimKey(subject: string | null, session: string | null): string | undefined {
  if (idProblem('subject_id', subject) || idProblem('session_id', session)) return undefined;
  return collisionKey(subject!, session!);
}

export function duplicateMessage(subject: string, session: string, holder: Holder): string {
  const same = holder.subject === subject && holder.session === session;
  const why = same
    ? 'the same subject and session'
    : `ids that give the same file names once joined with "_"${`${holder.subject}_${holder.session}` === `${subject}_${session}` ? '' : ' (up to case, which case-insensitive file systems ignore)'}`;
  return `${holder.shard} row ${holder.row} (subject ${holder.subject}, session ${holder.session}) has ${why}; the first row is kept`;
}

/**
 * The sessions of all shards in order, one per name. The claims keep one row per name among
 * the shards fetched now; a shard resumed from the journal can still hold a row whose name an
 * earlier, re-fetched shard took: the earlier wins, and each later one is returned as a problem.
 */
export function firstOfEachName(shards: { path: string; sessions: SessionRecord[] }[]): {
  sessions: SessionRecord[];
  duplicates: { problem: RowProblem; acquisition: string }[];
} {
  const holders = new Map<string, Holder>();
  const duplicates: { problem: RowProblem; acquisition: string }[] = [];
  const sessions = shards.flatMap((shard) =>
    shard.sessions.filter((s) => {
      const key = collisionKey(s.subject, s.session);
      const holder = holders.get(key);
      if (!holder) {
        holders.set(key, { shard: shard.path, row: s.row, subject: s.subject, session: s.session });
        return true;
      }
      const problem: RowProblem = {
        shard: shard.path,
        row: s.row,
        subject: s.subject,
        session: s.session,
        reason: 'duplicate',
        message: duplicateMessage(s.subject, s.session, holder),
      };
      duplicates.push({ problem, acquisition: s.acquisition });
      return false;
    }),
  );
  return { sessions, duplicates };
}
