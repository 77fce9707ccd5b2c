/**
 * Reads a row group's rows in stages so that only the bytes the kept sessions need cross the
 * wire: first the small columns (ids, acquisition), then the lesion chunk for the rows the
 * acquisition filter keeps, then the T2w chunk only for the rows still kept. Whether a row has
 * a T2w run at all (the first thing `decide` asks) comes from the T2w column chunk's
 * statistics when they settle it for the whole group (ARC: one session per shard, so always);
 * otherwise the T2w chunk is read to label the row exactly.
 */
import type { AsyncBuffer, ColumnMetaData, FileMetaData } from 'hyparquet';
import { parquetReadObjects } from 'hyparquet';
import { Decision, decide, DownloadFilters, HubRow } from './selection';

export const COLUMNS = ['subject_id', 'session_id', 't2w', 't2w_acquisition', 'lesion'];
/** Read first, for every row group at once: the ids (claims) and the acquisition (filter). */
export const SMALL_COLUMNS = ['subject_id', 'session_id', 't2w_acquisition'];
/** The leaf whose statistics tell whether rows have a first T2w run. */
const T2W_BYTES = 't2w.list.element.bytes';

export interface SmallRow {
  subject: string | null;
  session: string | null;
  acquisition: string | null;
}

export interface StagedRow {
  /** `t2w` (and `lesion`) are null when their chunk was not needed for this row. */
  row: HubRow;
  decision: Decision;
}

export function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return null;
}

function niftiBytes(value: unknown): Uint8Array | null {
  const bytes = (value as { bytes?: unknown } | null)?.bytes;
  return bytes instanceof Uint8Array && bytes.length > 0 ? bytes : null;
}

/** The first T2w run's bytes, as the Python download takes. */
const firstRun = (value: unknown) => niftiBytes(Array.isArray(value) ? value[0] : undefined);

/** Row ranges of the row groups. */
export function groupStarts(metadata: FileMetaData): number[] {
  let at = 0;
  return metadata.row_groups.map((g) => {
    const start = at;
    at += Number(g.num_rows);
    return start;
  });
}

/** Ids and acquisition of every row group (small chunks, fetched together). */
export async function readSmallColumns(file: AsyncBuffer, metadata: FileMetaData): Promise<SmallRow[][]> {
  const starts = groupStarts(metadata);
  return Promise.all(
    metadata.row_groups.map(async (group, g) => {
      const objects = await parquetReadObjects({
        file,
        metadata,
        columns: SMALL_COLUMNS,
        utf8: false,
        rowStart: starts[g],
        rowEnd: starts[g] + Number(group.num_rows),
      });
      return objects.map((o) => ({
        subject: text(o.subject_id),
        session: text(o.session_id),
        acquisition: text(o.t2w_acquisition),
      }));
    }),
  );
}

type Presence = 'all' | 'none' | 'unknown';

/**
 * From the statistics: every row has a non-null first run ('all'), none has ('none'), or they
 * do not say. A zero-length run with statistics that omit the minimum (pyarrow omits big
 * values) counts as present: such a row is only ever dropped, under its other filter's name.
 */
export function t2wPresence(metadata: FileMetaData, group: number): Presence {
  const rows = Number(metadata.row_groups[group].num_rows);
  const chunk: ColumnMetaData | undefined = metadata.row_groups[group].columns
    .map((c) => c.meta_data)
    .find((m) => m?.path_in_schema.join('.') === T2W_BYTES);
  const nulls = chunk?.statistics?.null_count;
  if (!chunk || nulls === undefined) return 'unknown';
  const min = chunk.statistics?.min_value as { length?: number } | undefined | null;
  if (Number(nulls) === 0) return min != null && min.length === 0 ? 'unknown' : 'all';
  return Number(nulls) === Number(chunk.num_values) && Number(chunk.num_values) === rows ? 'none' : 'unknown';
}

const PRESENT = new Uint8Array(1);

/** Rows [groupStart, groupStart + small.length) of one row group, decided, reading the lesion and T2w chunks only as needed. */
export async function readGroupRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: number,
  groupStart: number,
  small: SmallRow[],
  filters: DownloadFilters,
): Promise<StagedRow[]> {
  const presence = t2wPresence(metadata, group);
  const read = async (column: string) =>
    (
      await parquetReadObjects({
        file,
        metadata,
        columns: [column],
        utf8: false,
        rowStart: groupStart,
        rowEnd: groupStart + small.length,
      })
    ).map((o) => o[column]);
  const rows: HubRow[] = small.map((s) => ({ ...s, t2w: null, lesion: null }));
  const decisions: (Decision | undefined)[] = new Array(rows.length);
  /** Rows whose label depends on whether they have a T2w run. */
  const labelByT2w = new Set<number>();
  const settle = (i: number, decision: Decision) => {
    if (presence === 'all') decisions[i] = decision;
    else labelByT2w.add(i);
  };

  // Stage 1: the acquisition, with a T2w run and a mask assumed.
  const candidates: number[] = [];
  rows.forEach((row, i) => {
    if (presence === 'none') return void (decisions[i] = { keep: false, reason: 'no-t2w' });
    const d = decide({ ...row, t2w: PRESENT, lesion: PRESENT }, filters);
    if (d.keep) candidates.push(i);
    else settle(i, d);
  });
  // Stage 2: the lesion mask of the rows still in.
  const needT2w: number[] = [];
  if (candidates.length) {
    const lesions = await read('lesion');
    for (const i of candidates) {
      rows[i].lesion = niftiBytes(lesions[i]);
      const d = decide({ ...rows[i], t2w: PRESENT }, filters);
      if (d.keep) needT2w.push(i);
      else settle(i, d);
    }
  }
  // Stage 3: the T2w chunk, for the rows still in and the rows whose label needs it.
  if (needT2w.length || labelByT2w.size) {
    const runs = await read('t2w');
    for (const i of [...needT2w, ...labelByT2w]) {
      rows[i].t2w = firstRun(runs[i]);
      decisions[i] = decide(rows[i], filters);
    }
  }
  return rows.map((row, i) => ({ row, decision: decisions[i]! }));
}
