/**
 * The project file's name and how one folder's is read; which one applies (the nearest up the
 * tree) and what it configures is projectConfig.ts. Kept apart so out/cli.js can start the read
 * of a checked file's folder before it loads the rest (cli/earlyReads.ts).
 */
import * as path from 'node:path';
import { readRegularText } from './regularFile';

export const PROJECT_FILE = '.neurocache.json';
/** A project file is a few lines; anything larger is not one. */
const MAX_PROJECT_FILE_BYTES = 1 << 20;

/** The text of `directory`'s project file; rejects (ENOENT when there is none, the usual case: only opened, one lookup). */
export function readProjectFile(directory: string): Promise<string> {
  return readRegularText(path.join(directory, PROJECT_FILE), MAX_PROJECT_FILE_BYTES, 'often-missing');
}
