/** The dataset index's "Rewrite window counts from the cache" fix. */
import * as path from 'node:path';
import { rewriteWindowCounts } from '../engine/eeg/datasetIndex';
import { analyzeDocument } from './analyze';
import { analyzeText } from './detect';
import type { CacheInspector } from './inspector';

/**
 * The "Rewrite window counts from the cache" fix: `_dataset_index.json` with each count read
 * from its cache's windows header, in json.dump's bytes. `text` undefined: nothing to write.
 */
export async function windowCountsFix(
  file: string,
  text: string,
  inspector: CacheInspector,
): Promise<{ text?: string; message: string }> {
  const analysis = await analyzeDocument(
    file,
    text,
    inspector,
    { content: true, cwd: path.dirname(path.resolve(file)) },
    analyzeText(text, { name: path.basename(file) }),
  );
  if (analysis.kind !== 'eeg-dataset-index')
    throw new Error(`${path.basename(file)} is not an EEG dataset index that Python can read`);
  const rewritten = rewriteWindowCounts(analysis.parsed, analysis.facts);
  if (!rewritten)
    throw new Error('"files" is not a list of EDF paths: delete the index and let EEGWindowDataset write a new one');
  const kept = rewritten.kept ? `; kept ${rewritten.kept} recorded (cache missing or unreadable)` : '';
  if (rewritten.text === text)
    return { message: `Every window count already equals its cache's windows.shape[0]${kept}.` };
  return {
    text: rewritten.text,
    message: `Rewrote ${rewritten.changed} window count${rewritten.changed === 1 ? '' : 's'} from the caches${kept}.`,
  };
}
