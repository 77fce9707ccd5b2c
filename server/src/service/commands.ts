/**
 * What each writing command changes in a document, as text edits on the text it was given;
 * the language server applies them to the open buffer or writes the file. Each command first
 * re-detects the document's kind from its content and refuses any other (a command name and a
 * URI are not enough to overwrite a file).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { legacyPathEdits, lesionVolumeEdits } from '../engine/arc/fixes';
import { dropEntries } from '../engine/eeg/fixes';
import type { ExcludeRule } from '../engine/eeg/buildExclude';
import type { TextEdit } from '../engine/json/edits';
import { plural } from '../engine/report';
import { Commands } from '../protocol';
import { RefusedWrite } from './atomic';
import { analyzeDocument } from './analyze';
import { computeManifest, describeBuild } from './buildManifest';
import { analyzeText, detectDocument, DocumentKind } from './detect';
import { windowCountsFix } from './windowCountsFix';
import type { CacheInspector } from './inspector';

export type FileCommand =
  | typeof Commands.rebuildManifest
  | typeof Commands.dropMissingEntries
  | typeof Commands.recomputeLesionVolumes
  | typeof Commands.rewriteLegacyPaths
  | typeof Commands.rewriteWindowCounts;

export interface CommandContext {
  inspector: CacheInspector;
  /** Where relative dataset_info paths resolve last (the document's workspace folder). */
  cwd: string;
  signal?: AbortSignal;
  /** Cache files a rebuild leaves out on purpose (`build.exclude`). */
  exclude?: readonly ExcludeRule[];
}

/** The edits a command makes (none when the document is already right) and what to tell the user. */
export interface CommandPlan {
  edits: TextEdit[];
  message: string;
  /** The message is a warning (the Python build would stop), not news. */
  warning?: boolean;
}

type Planner = (file: string, text: string, context: CommandContext) => Promise<CommandPlan>;

const whole = (text: string, next: string): TextEdit[] =>
  next === text ? [] : [{ offset: 0, length: text.length, newText: next }];

const PLANNERS: Record<FileCommand, { kind: Exclude<DocumentKind, 'unrelated'>; plan: Planner }> = {
  [Commands.rebuildManifest]: {
    kind: 'seizure-manifest',
    plan: async (file, text, { inspector, signal, exclude }) => {
      const { text: rebuilt, result } = await computeManifest(path.dirname(file), inspector, { signal, exclude });
      return {
        edits: whole(text, rebuilt),
        message: describeBuild(result),
        ...(result.pythonStopsAt && { warning: true }),
      };
    },
  },
  [Commands.dropMissingEntries]: {
    kind: 'seizure-manifest',
    plan: async (file, text) => {
      const directory = path.dirname(file);
      const exists = new Map<string, boolean>();
      const structure = analyzeText(text);
      for (const name of structure.kind === 'seizure-manifest' ? structure.parsed.files : []) {
        exists.set(
          name,
          await fs.stat(path.join(directory, name)).then(
            () => true,
            () => false,
          ),
        );
      }
      const result = dropEntries(text, (name) => typeof name === 'string' && exists.get(name) === true);
      if (!result) throw new RefusedWrite('the manifest is not valid JSON; fix it or rebuild it');
      return result.dropped
        ? {
            edits: whole(text, result.text),
            message: `Dropped ${plural(result.dropped, 'entry', 'entries')} whose cache files are missing.`,
          }
        : { edits: [], message: 'No entry references a missing file.' };
    },
  },
  [Commands.recomputeLesionVolumes]: {
    kind: 'arc-dataset-info',
    plan: async (file, text, context) => {
      const analysis = await analyzeDatasetInfo(file, text, context);
      const edits = lesionVolumeEdits(
        analysis.parsed,
        analysis.facts.masks.map((m) => m?.nifti?.positiveVoxels),
      );
      return {
        edits,
        message: edits.length
          ? `Updated ${plural(edits.length, 'lesion volume')}.`
          : 'Every lesion volume is already correct.',
      };
    },
  },
  [Commands.rewriteLegacyPaths]: {
    kind: 'arc-dataset-info',
    plan: async (file, text, context) => {
      const analysis = await analyzeDatasetInfo(file, text, context);
      const edits = legacyPathEdits(analysis.parsed, analysis.facts.images, analysis.facts.masks, analysis.directory);
      return {
        edits,
        message: edits.length
          ? `Updated ${plural(edits.length, 'legacy path')}.`
          : 'Every legacy path is already correct.',
      };
    },
  },
  [Commands.rewriteWindowCounts]: {
    kind: 'eeg-dataset-index',
    plan: async (file, text, { inspector }) => {
      const fix = await windowCountsFix(file, text, inspector).catch((error: Error) => {
        throw new RefusedWrite(error.message);
      });
      return { edits: fix.text === undefined ? [] : whole(text, fix.text), message: fix.message };
    },
  },
};

async function analyzeDatasetInfo(file: string, text: string, { inspector, cwd, signal }: CommandContext) {
  const analysis = await analyzeDocument(file, text, inspector, { content: true, cwd, signal });
  if (analysis.kind !== 'arc-dataset-info')
    throw new RefusedWrite(`${path.basename(file)} is not an ARC dataset_info.json`);
  return analysis;
}

export function isFileCommand(command: string): command is FileCommand {
  return Object.hasOwn(PLANNERS, command);
}

const KIND_NAMES: Record<Exclude<DocumentKind, 'unrelated'>, string> = {
  'seizure-manifest': 'a seizure manifest',
  'eeg-dataset-index': 'an EEG _dataset_index.json',
  'arc-dataset-info': 'an ARC dataset_info.json',
};

/**
 * The edits `command` makes to `file` whose current text is `text`; refuses a document of
 * another kind. A file Python cannot read counts as the format it is recognised as (by its keys
 * or its place), so a broken manifest.json can be rebuilt.
 */
export async function planCommand(
  command: FileCommand,
  file: string,
  text: string,
  context: CommandContext,
): Promise<CommandPlan> {
  const planner = PLANNERS[command];
  const structure = await detectDocument(file, text);
  const kind = structure.kind === 'invalid-json' ? structure.format : structure.kind;
  if (kind !== planner.kind) {
    const what =
      kind === 'unrelated'
        ? 'neither a seizure manifest nor an ARC dataset_info.json nor an EEG _dataset_index.json'
        : KIND_NAMES[kind];
    throw new RefusedWrite(`${command} changes only ${KIND_NAMES[planner.kind]}; ${file} is ${what}`);
  }
  return planner.plan(file, text, context);
}
