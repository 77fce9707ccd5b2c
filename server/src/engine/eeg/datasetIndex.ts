/**
 * EEG dataset index (`_dataset_index.json`, docs/formats.md "EEG dataset index"), written by brain-go-brr-v2's
 * `EEGWindowDataset` with `json.dump(cache_data, f)`:
 * `{"files": ["/data/x.edf", ...], "window_counts": [60, ...]}`.
 *
 * On start-up EEGWindowDataset trusts it whenever the EDF file names equal `files` (by name),
 * takes `window_counts` as given and builds its window list from them without opening a cache.
 * Window i of file k is later read from `{cache_dir}/{stem(files[k])}_windows.npz`, `windows[i]`.
 * What training does with a damaged index is followed step by step here (`trainingOutcome`)
 * and checked against a reproduction of the upstream constructor in the tests.
 */
import { Diagnostic, diagnostic, TextSpan } from '../diagnostics';
import { pythonJsonDumps } from '../json/pythonJsonDump';
import { get, parsePythonTree, PyNode, typeName } from '../json/pythonTree';

export interface IndexFile {
  /** The `files` entry as written (an EDF path). */
  path: string;
  span: TextSpan;
  /** `{stem}_windows.npz`: the cache file training reads this EDF's windows from. */
  cacheFile: string;
  /** The recorded window count, when it is one training can use (an int; a bool counts as 0/1). */
  count?: number;
  countSpan?: TextSpan;
}

/** What EEGWindowDataset does with the index on start-up. */
export type IndexOutcome =
  /** Uses it: `files[k]` gets `counts[k]` windows (fewer counts: later files get none; more: IndexError mid-epoch). */
  | { kind: 'trusted' }
  /** Cannot use it (the exception it catches): opens every cache file again to count windows, and rewrites the index. */
  | { kind: 'rebuilt'; exception: string; at: PyNode }
  /**
   * Fails part-way through window_counts (or before it with a list it keeps): after re-reading
   * every cache it still holds the bad list and writes it back with the new counts appended, so
   * this repeats on every start; `duplicated` files' windows were already added and appear twice.
   */
  | { kind: 'rebuilt-corrupt'; exception: string; at: PyNode; duplicated: number }
  /** Raises an exception it does not catch: training stops at start-up. */
  | { kind: 'crash'; exception: string; at: PyNode };

export interface ParsedDatasetIndex {
  /** False: not a dataset index (no window_counts, and not named _dataset_index.json with files). */
  isDatasetIndex: boolean;
  root?: PyNode;
  keys: { files?: TextSpan; windowCounts?: TextSpan };
  /** The EDF entries when `files` is a list of strings. */
  files: IndexFile[];
  outcome: IndexOutcome;
  schema: Diagnostic[];
}

/** Python's `PurePosixPath(p).stem` (training runs on Linux). */
export function pythonStem(edfPath: string): string {
  const parts = edfPath.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.length ? parts[parts.length - 1] : '';
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : name;
}

/** The cache file training reads an EDF's windows from. */
export function cacheFileFor(edfPath: string): string {
  return `${pythonStem(edfPath)}_windows.npz`;
}

/** Follows EEGWindowDataset's start-up over the index, assuming the EDF names match `files`. */
export function trainingOutcome(root: PyNode): IndexOutcome {
  // cached_index["files"]: a dict lookup on whatever json.load returned.
  if (root.type !== 'dict') return { kind: 'rebuilt', exception: 'TypeError', at: root };
  const files = get(root, 'files');
  if (!files) return { kind: 'rebuilt', exception: "KeyError: 'files'", at: root };
  // [Path(p).name for p in files]: strings only; a str or dict iterates characters or keys, whose names cannot be EDF names.
  if (files.type === 'str' || files.type === 'dict')
    return { kind: 'rebuilt', exception: 'file names differ (not a list)', at: files };
  if (files.type !== 'list') return { kind: 'rebuilt', exception: 'TypeError', at: files };
  const notString = files.items.find((item) => item.type !== 'str');
  if (notString) return { kind: 'rebuilt', exception: 'TypeError', at: notString };
  const counts = get(root, 'window_counts');
  if (!counts) return { kind: 'rebuilt', exception: "KeyError: 'window_counts'", at: root };
  // self._file_window_counts = counts; print(sum(counts)); then range(n) per item; a caught
  // failure falls back to re-counting with self._file_window_counts.append(...).
  const appendable = counts.type === 'list';
  const failed = (exception: string, at: PyNode, duplicated: number): IndexOutcome =>
    appendable
      ? { kind: 'rebuilt-corrupt', exception, at, duplicated }
      : {
          kind: 'crash',
          exception: `AttributeError ('${typeName(counts)}' object has no attribute 'append', after ${exception})`,
          at,
        };
  if (counts.type === 'list') {
    const notNumber = counts.items.find((item) => !['int', 'float', 'bool'].includes(item.type));
    if (notNumber) return failed('TypeError in sum()', notNumber, 0);
    const notInt = counts.items.findIndex((item) => item.type === 'float');
    if (notInt >= 0)
      return failed(
        `TypeError: range() of the float ${counts.items[notInt].type === 'float' ? (counts.items[notInt] as { value: number }).value : ''}`,
        counts.items[notInt],
        notInt,
      );
    return { kind: 'trusted' };
  }
  if (counts.type === 'str' || counts.type === 'dict') {
    const empty = counts.type === 'str' ? counts.value === '' : counts.entries.length === 0;
    // sum('') and sum({}) are 0 and there is nothing to iterate: an index of no windows, trusted.
    if (empty) return { kind: 'trusted' };
    return failed('TypeError in sum()', counts, 0);
  }
  return failed('TypeError in sum()', counts, 0);
}

/** Parses `_dataset_index.json` text (readable by Python's json); `named` when the file has that name. */
export function parseDatasetIndex(text: string, named: boolean): ParsedDatasetIndex {
  const root = parsePythonTree(text);
  const none: ParsedDatasetIndex = {
    isDatasetIndex: false,
    keys: {},
    files: [],
    outcome: { kind: 'trusted' },
    schema: [],
  };
  if (!root) return none;
  const keyOf = (key: string) =>
    root.type === 'dict' ? [...root.entries].reverse().find((e) => e.key === key)?.keySpan : undefined;
  const keys = { files: keyOf('files'), windowCounts: keyOf('window_counts') };
  if (!keys.windowCounts && !(named && keys.files)) return none;
  const schema: Diagnostic[] = [];
  const outcome = trainingOutcome(root);
  const files: IndexFile[] = [];
  const filesNode = get(root, 'files');
  const countsNode = get(root, 'window_counts');
  if (filesNode?.type === 'list' && filesNode.items.every((i) => i.type === 'str')) {
    const counts = countsNode?.type === 'list' ? countsNode.items : [];
    filesNode.items.forEach((item, k) => {
      const path = (item as { value: string }).value;
      const countNode = counts[k];
      const count =
        countNode && (countNode.type === 'int' || countNode.type === 'bool') ? Number(countNode.value) : undefined;
      files.push({ path, span: item, cacheFile: cacheFileFor(path), count, countSpan: countNode });
    });
  }
  schema.push(...outcomeDiagnostics(outcome, keys));
  if (outcome.kind === 'trusted' && countsNode?.type === 'list' && filesNode?.type === 'list') {
    const extra = countsNode.items.length - filesNode.items.length;
    if (extra > 0) {
      const first = countsNode.items[filesNode.items.length];
      schema.push(
        diagnostic(
          first,
          'error',
          'dataset-index-schema',
          `window_counts has ${extra} more ${extra === 1 ? 'count' : 'counts'} than files: their windows belong to no file, and training raises IndexError mid-epoch when it reaches one.`,
        ),
      );
    } else if (extra < 0) {
      schema.push(
        diagnostic(
          keys.windowCounts ?? filesNode,
          'warning',
          'dataset-index-schema',
          `window_counts has ${-extra} fewer ${-extra === 1 ? 'count' : 'counts'} than files: training reads no windows from the last ${-extra} ${-extra === 1 ? 'file' : 'files'}.`,
        ),
      );
    }
    for (const item of countsNode.items) {
      if (item.type === 'bool')
        schema.push(
          diagnostic(
            item,
            'warning',
            'dataset-index-schema',
            `${item.value} is a bool: range(${item.value ? 'True' : 'False'}) gives ${Number(item.value)} ${item.value ? 'window' : 'windows'}.`,
          ),
        );
      else if (item.type === 'int' && item.value < 0)
        schema.push(
          diagnostic(
            item,
            'warning',
            'dataset-index-schema',
            `A negative count: range(${item.value}) is empty, so training reads no windows from this file.`,
          ),
        );
    }
  }
  return { isDatasetIndex: true, root, keys, files, outcome, schema };
}

function outcomeDiagnostics(outcome: IndexOutcome, keys: ParsedDatasetIndex['keys']): Diagnostic[] {
  if (outcome.kind === 'trusted') return [];
  // Whole-document findings sit on a root key; value findings on the value.
  const at =
    outcome.at.type === 'dict' && (keys.windowCounts ?? keys.files) ? (keys.windowCounts ?? keys.files)! : outcome.at;
  const shape = 'It should be {"files": [EDF paths], "window_counts": [int, ...]}.';
  if (outcome.kind === 'rebuilt') {
    return [
      diagnostic(
        at,
        'warning',
        'dataset-index-schema',
        `EEGWindowDataset cannot use this index (${outcome.exception}): on every start it opens every cache file again to count windows (slow on network storage), then rewrites it. ${shape}`,
      ),
    ];
  }
  if (outcome.kind === 'crash') {
    return [
      diagnostic(
        at,
        'error',
        'dataset-index-schema',
        `EEGWindowDataset raises ${outcome.exception}: training stops at start-up. ${shape}`,
      ),
    ];
  }
  const twice = outcome.duplicated
    ? ` The windows of the first ${outcome.duplicated} ${outcome.duplicated === 1 ? 'file' : 'files'} were already added and appear twice.`
    : '';
  return [
    diagnostic(
      at,
      'error',
      'dataset-index-schema',
      `EEGWindowDataset fails here (${outcome.exception}), re-reads every cache file, and writes this bad list back with the new counts appended, so it happens again on every start.${twice} ${shape}`,
    ),
  ];
}

/** What is known about the cache file of each index entry, gathered by an adapter. */
export interface IndexFileFacts {
  exists: boolean;
  /** windows.shape[0] from the `.npy` header, when read. */
  windows?: number;
  error?: string;
}

/** Content diagnostics: counts against each cache's windows.shape[0], missing and unreadable caches. */
export function checkDatasetIndex(parsed: ParsedDatasetIndex, facts: IndexFileFacts[]): Diagnostic[] {
  if (parsed.outcome.kind !== 'trusted') return [];
  const out: Diagnostic[] = [];
  parsed.files.forEach((file, k) => {
    const fact = facts[k];
    if (!fact) return;
    if (!fact.exists) {
      out.push(
        diagnostic(
          file.span,
          'warning',
          'index-missing-cache-file',
          `${file.cacheFile} does not exist: training preprocesses this EDF again for every window it reads (train/loop.py allows on-demand), or raises RuntimeError when on-demand is disabled.`,
        ),
      );
      return;
    }
    if (fact.error) {
      out.push(
        diagnostic(
          file.span,
          'error',
          'unreadable-cache-file',
          `${file.cacheFile}: windows cannot be read (${fact.error}): training fails when it reads this file's windows.`,
        ),
      );
      return;
    }
    if (file.count === undefined || fact.windows === undefined || file.count === fact.windows) return;
    const where = file.countSpan ?? file.span;
    const recorded = Math.max(0, file.count);
    if (recorded > fact.windows) {
      out.push(
        diagnostic(
          where,
          'error',
          'index-window-count',
          `Recorded ${file.count} windows, but ${file.cacheFile} has ${fact.windows} (windows.shape[0]): training raises IndexError mid-epoch when it reads window ${fact.windows}.`,
        ),
      );
    } else {
      out.push(
        diagnostic(
          where,
          'warning',
          'index-window-count',
          `Recorded ${file.count} windows, but ${file.cacheFile} has ${fact.windows} (windows.shape[0]): training silently leaves ${fact.windows - recorded} of them out.`,
        ),
      );
    }
  });
  return out;
}

export interface DatasetIndexStats {
  files: number;
  /** Windows training takes from the index (the sum of usable counts, over files only). */
  windows: number;
  missingCacheFiles: number;
  /** What EEGWindowDataset does with the index on start-up. */
  outcome: IndexOutcome['kind'];
}

export function datasetIndexStats(parsed: ParsedDatasetIndex, exists: boolean[]): DatasetIndexStats {
  const windows =
    parsed.outcome.kind === 'trusted' ? parsed.files.reduce((sum, f) => sum + Math.max(0, f.count ?? 0), 0) : 0;
  return {
    files: parsed.files.length,
    windows,
    missingCacheFiles: exists.filter((e) => !e).length,
    outcome: parsed.outcome.kind,
  };
}

/**
 * The index with every count replaced by its cache's windows.shape[0] (counts of missing or
 * unreadable caches are kept), in the bytes `json.dump(cache_data, f)` writes. Undefined when
 * `files` is not a list of strings.
 */
export function rewriteWindowCounts(
  parsed: ParsedDatasetIndex,
  facts: IndexFileFacts[],
): { text: string; changed: number; kept: number } | undefined {
  const filesNode = parsed.root && get(parsed.root, 'files');
  if (filesNode?.type !== 'list' || filesNode.items.some((i) => i.type !== 'str')) return undefined;
  let changed = 0;
  let kept = 0;
  const counts = parsed.files.map((file, k) => {
    const windows = facts[k]?.windows;
    if (windows !== undefined) {
      if (windows !== file.count) changed++;
      return windows;
    }
    kept++;
    return Math.max(0, file.count ?? 0);
  });
  const text = pythonJsonDumps({ files: parsed.files.map((f) => f.path), window_counts: counts });
  return { text, changed, kept };
}
