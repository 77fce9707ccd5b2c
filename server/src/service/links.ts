/**
 * The paths a checked document names, for document links (Ctrl+click opens the file): each
 * manifest entry's `cache_file` (a file next to the manifest), each image and mask path of
 * a dataset_info.json where the checks resolved it (next to the file, a parent folder or the
 * working directory), and each EDF of a _dataset_index.json, which opens its cache
 * (`{stem}_windows.npz` next to the index). Only regular files are linked: a missing file would open an error, and a
 * FIFO could block whoever reads it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { TextSpan } from '../engine/diagnostics';
import { fileSpan } from '../engine/eeg/manifestEntries';
import type { Analysis } from './analyze';

/** Most links per document: a 150,000-entry manifest would otherwise send ~20 MB of links. */
export const MAX_DOCUMENT_LINKS = 10_000;
/** Stats at once while checking link targets. */
const STATS_IN_FLIGHT = 32;

export interface PathLink {
  /** The JSON string, quotes included. */
  span: TextSpan;
  /** The absolute path it opens. */
  file: string;
}

/** The linkable paths of a document, in document order, at most MAX_DOCUMENT_LINKS. */
export function pathLinks(analysis: Analysis): PathLink[] {
  const links: PathLink[] = [];
  if (analysis.kind === 'seizure-manifest') {
    const { entries } = analysis.parsed;
    for (let i = 0; i < entries.count && links.length < MAX_DOCUMENT_LINKS; i++) {
      const id = entries.file.at(i);
      if (id < 0 || !analysis.facts[id]?.exists) continue;
      links.push({
        span: fileSpan(entries, i),
        file: path.join(analysis.directory, analysis.parsed.files[id]),
      });
    }
  } else if (analysis.kind === 'arc-dataset-info') {
    const { samples } = analysis.parsed;
    const { images, masks } = analysis.facts;
    for (const sample of samples) {
      for (const [item, facts] of [
        [sample.image, images[sample.index]],
        [sample.mask, masks[sample.index]],
      ] as const) {
        if (item && typeof item.value === 'string' && facts?.resolved) links.push({ span: item, file: facts.resolved });
      }
    }
    // Samples interleave the two lists; the links follow the text.
    links.sort((a, b) => a.span.offset - b.span.offset);
  } else if (analysis.kind === 'eeg-dataset-index') {
    // An EDF path opens the cache training reads its windows from (the EDF is rarely on the training machine).
    analysis.parsed.files.forEach((f, k) => {
      if (analysis.facts[k]?.exists) links.push({ span: f.span, file: path.join(analysis.directory, f.cacheFile) });
    });
  }
  return links.slice(0, MAX_DOCUMENT_LINKS);
}

// One answer per analysis: editors ask for links after every edit, and on network storage each
// stat is a round trip. A new analysis (after a check, or a watcher's re-check) asks again.
const linksByAnalysis = new WeakMap<Analysis, Promise<PathLink[]>>();

/**
 * The document's links to regular files, found once per analysis. The search is not cancelled
 * with the request that started it: the next request (there is one after every edit) uses it.
 */
export function documentPathLinks(analysis: Analysis): Promise<PathLink[]> {
  let found = linksByAnalysis.get(analysis);
  if (!found) linksByAnalysis.set(analysis, (found = regularFileLinks(pathLinks(analysis))));
  return found;
}

/** Those of `links` whose file is a regular file now (each distinct file stat'ed once, a few at a time). */
export async function regularFileLinks(links: PathLink[], signal?: AbortSignal): Promise<PathLink[]> {
  const files = [...new Set(links.map((l) => l.file))];
  const regular = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < files.length && !signal?.aborted) {
      const file = files[next++];
      if (
        await fs.stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        regular.add(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATS_IN_FLIGHT, files.length) }, worker));
  return links.filter((l) => regular.has(l.file));
}
