/**
 * Only regular files are read. open() of a FIFO blocks until a writer appears (forever, in a
 * scan), a character device such as /dev/zero never ends: the adapters stat (or open with
 * O_NONBLOCK and fstat) and report such files with this text instead of reading them.
 */

import { FormatError } from './source';

/** The type tests of a node:fs Stats or Dirent (the engine itself never touches the file system). */
export interface FileTypeTests {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}

export function fileTypeName(stat: FileTypeTests): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why a non-regular file is not read, for diagnostics and skip reasons. */
export function notRegularFile(stat: FileTypeTests): string {
  return `${fileTypeName(stat)}, not a regular file: not read (a read could block forever or never end)`;
}

/** A cache file that is not a regular file (a directory, a FIFO, a device): refused before any read. */
export class NotRegularFileError extends FormatError {
  readonly directory: boolean;
  constructor(stat: FileTypeTests) {
    super(notRegularFile(stat));
    this.directory = stat.isDirectory();
  }
}
