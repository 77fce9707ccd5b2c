/**
 * What Python raises when the manifest builder reads a damaged cache file, and what the builder
 * then does. `scan_existing_cache` wraps `np.load` and `data["labels"]` in
 * `except (OSError, ValueError)`: those files are skipped with a message; any other exception
 * (zipfile.BadZipFile, zlib.error, EOFError, ...) is not caught and stops the whole build.
 * Which exception numpy raises for which damage is measured against numpy in the tests
 * (test/unit/numpy-exceptions.test.ts); this module only names them.
 */
import { FileTypeTests, notRegularFile, NotRegularFileError } from '../io/fileType';
import { FormatError } from '../io/source';

/** Python exceptions numpy, zipfile and the builder raise for cache files, by qualified name. */
export type PythonException =
  | 'ValueError'
  | 'UnicodeDecodeError'
  | 'OSError'
  | 'FileNotFoundError'
  | 'IsADirectoryError'
  | 'PermissionError'
  | 'zipfile.BadZipFile'
  | 'zlib.error'
  | 'EOFError'
  | 'RuntimeError'
  | 'NotImplementedError'
  | 'AttributeError'
  | 'TypeError'
  | 'IndexError'
  | 'tokenize.TokenError';

/** The subclasses of (OSError, ValueError) among them: the ones the builder catches. */
const CAUGHT_BY_BUILDER: ReadonlySet<PythonException> = new Set<PythonException>([
  'ValueError',
  'UnicodeDecodeError',
  'OSError',
  'FileNotFoundError',
  'IsADirectoryError',
  'PermissionError',
]);

export const ALL_PYTHON_EXCEPTIONS: readonly PythonException[] = [
  ...CAUGHT_BY_BUILDER,
  'zipfile.BadZipFile',
  'zlib.error',
  'EOFError',
  'RuntimeError',
  'NotImplementedError',
  'AttributeError',
  'TypeError',
  'IndexError',
  'tokenize.TokenError',
];

export function builderCatches(exception: PythonException): boolean {
  return CAUGHT_BY_BUILDER.has(exception);
}

/** An exception that differs with the numpy version (numpy changed what it raises). */
export interface OlderNumpy {
  exception: PythonException;
  /** e.g. "1.24": the newest numpy that raises `exception` instead. */
  upTo: string;
}

/** A cache file numpy cannot load (or the builder fails on), with the exception Python raises. */
export class NumpyLoadError extends FormatError {
  constructor(
    message: string,
    readonly exception: PythonException,
    readonly olderNumpy?: OlderNumpy,
  ) {
    super(message);
  }
}

/**
 * A cache file numpy reads but NeuroCache cannot (a ZIP member compressed with bzip2 or LZMA,
 * which Python's zipfile decodes): the Python builder lists its windows, NeuroCache cannot.
 */
export class UnsupportedByNeuroCache extends FormatError {}

/** How the Python builder ends up treating a cache file. */
export type BuildOutcome =
  /** np.load raised OSError/ValueError: skipped with "Warning: Skipping ...". */
  | 'skipped'
  /** Any other exception: the build stops and writes no manifest. */
  | 'stops-build'
  /** No `labels` array: left out with a "has NO LABELS" warning. */
  | 'no-labels'
  /** Python reads it, NeuroCache cannot: the manifests differ. */
  | 'unsupported';

export function outcomeOf(exception: PythonException): 'skipped' | 'stops-build' {
  return builderCatches(exception) ? 'skipped' : 'stops-build';
}

/** "numpy raises zipfile.BadZipFile, which the Python builder does not catch: its build stops at this file". */
export function describeOutcome(exception: PythonException, olderNumpy?: OlderNumpy): string {
  const now = builderCatches(exception)
    ? `numpy raises ${exception}, which the Python builder catches: it skips this file`
    : `numpy raises ${exception}, which the Python builder does not catch: its build stops at this file and writes no manifest`;
  if (!olderNumpy) return now;
  const then = builderCatches(olderNumpy.exception) ? 'the builder skips it' : 'the build stops';
  return `${now} (numpy ${olderNumpy.upTo} and older raise ${olderNumpy.exception}: ${then})`;
}

/** The exception Python's open() raises for a file the OS refuses, from its errno code. */
export function osException(code: string | undefined): PythonException {
  if (code === 'ENOENT') return 'FileNotFoundError';
  if (code === 'EISDIR') return 'IsADirectoryError';
  if (code === 'EACCES' || code === 'EPERM') return 'PermissionError';
  return 'OSError';
}

/** Why a cache file could not be summarised, as plain data (crosses worker threads, stored in fingerprints). */
export interface LoadFailure {
  message: string;
  /** What Python raises for it; absent when unknown (a failure only NeuroCache has). */
  exception?: PythonException;
  olderNumpy?: OlderNumpy;
  /** numpy reads it; NeuroCache cannot. */
  unsupported?: boolean;
  /** Its size or mtime changed while NeuroCache read it: what failed is a mix of old and new bytes, not the file. */
  changedWhileRead?: boolean;
  /** Not a regular file nor a directory (a FIFO, a device, a socket): NeuroCache never opens it for reading. */
  notRegular?: boolean;
}

/**
 * The failure of a file that is not a regular file. Python's open() refuses a directory with
 * IsADirectoryError (which the builder catches); a FIFO or a device it opens and reads.
 */
export function notRegularFailure(stat: FileTypeTests): LoadFailure {
  return failureOfNotRegular(notRegularFile(stat), stat.isDirectory());
}

function failureOfNotRegular(message: string, directory: boolean): LoadFailure {
  return directory ? { message, exception: 'IsADirectoryError' } : { message, notRegular: true };
}

/** The failure an engine error describes, or undefined for a bug (not bad input). */
export function loadFailure(error: unknown): LoadFailure | undefined {
  if (error instanceof NumpyLoadError)
    return { message: error.message, exception: error.exception, olderNumpy: error.olderNumpy };
  if (error instanceof UnsupportedByNeuroCache) return { message: error.message, unsupported: true };
  if (error instanceof NotRegularFileError) return failureOfNotRegular(error.message, error.directory);
  if (error instanceof FormatError) return { message: error.message };
  return undefined;
}

/** How the builder treats a file that failed with `failure`. */
export function failureOutcome(failure: LoadFailure): Exclude<BuildOutcome, 'no-labels'> {
  if (failure.unsupported) return 'unsupported';
  return failure.exception ? outcomeOf(failure.exception) : 'skipped';
}
