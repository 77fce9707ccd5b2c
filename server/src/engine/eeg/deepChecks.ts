/**
 * The deep check's diagnostics: each manifest entry whose window holds NaN/Inf
 * (`non-finite-windows`) or values beyond ±CLIP_LIMIT (`unclipped-windows`), on that entry
 * exactly; a `windows` member that cannot be inflated on the entries of its file.
 */
import { Diagnostic, diagnostic } from '../diagnostics';
import { entrySpan, fileSpan } from './manifestEntries';
import type { ParsedManifest } from './manifestParse';
import { CLIP_LIMIT, NonFiniteWindow, UnclippedWindow, WindowValues } from './windowValues';

/** A file's deep result as the check gets it: the values, or why `windows` could not be read whole. */
export type DeepResult = { ok: true; value: WindowValues } | { ok: false; error: string };

const n = (x: number) => x.toLocaleString('en-US');

export function nonFiniteMessage(name: string, bad: NonFiniteWindow, perWindow: number): string {
  const parts = [
    bad.nan && `${n(bad.nan)} NaN`,
    bad.posInf && `${n(bad.posInf)} +Inf`,
    bad.negInf && `${n(bad.negInf)} −Inf`,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    `${name} window ${bad.window} holds ${n(bad.values)} non-finite value${bad.values === 1 ? '' : 's'} (${parts}) of ${n(perWindow)}: training feeds them to the model and its loss becomes NaN. ` +
    'Current preprocessing replaces NaN/Inf with 0: this cache was written before that fix, or is damaged; rebuild it.'
  );
}

export function unclippedMessage(name: string, bad: UnclippedWindow, perWindow: number): string {
  return (
    `${name} window ${bad.window} holds ${n(bad.values)} value${bad.values === 1 ? '' : 's'} beyond ±${CLIP_LIMIT} (largest |x| ${Number(bad.maxAbs.toPrecision(6))}) of ${n(perWindow)}: ` +
    `current preprocessing clips z-scored windows to ±${CLIP_LIMIT}, so this cache was written before that fix and the model gets inputs it never sees from a current cache; rebuild it.`
  );
}

/** `deep[k]` is the result for `parsed.files[k]` (undefined: not checked, e.g. missing or unreadable). */
export function deepDiagnostics(parsed: ParsedManifest, deep: (DeepResult | undefined)[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byFile = deep.map((result) => {
    if (!result?.ok) return undefined;
    return {
      values: result.value,
      nonFinite: new Map(result.value.nonFinite.map((b) => [b.window, b])),
      unclipped: new Map(result.value.unclipped.map((b) => [b.window, b])),
    };
  });
  const { entries } = parsed;
  for (let i = 0; i < entries.count; i++) {
    const id = entries.file.at(i);
    if (id < 0 || entries.shadowed.at(i) || Number.isNaN(entries.window.at(i))) continue;
    const result = deep[id];
    const name = parsed.files[id];
    if (result && !result.ok) {
      out.push(
        diagnostic(
          fileSpan(entries, i),
          'error',
          'unreadable-cache-file',
          `${name}: windows cannot be read whole (${result.error}); training fails on every window of this file.`,
          name,
        ),
      );
      continue;
    }
    const file = byFile[id];
    if (!file) continue;
    const listed = entries.window.at(i);
    const window = listed < 0 ? file.values.windows + listed : listed;
    const span = entrySpan(entries, i);
    const nonFinite = file.nonFinite.get(window);
    if (nonFinite)
      out.push(
        diagnostic(
          span,
          'error',
          'non-finite-windows',
          nonFiniteMessage(name, nonFinite, file.values.valuesPerWindow),
          name,
        ),
      );
    const unclipped = file.unclipped.get(window);
    if (unclipped)
      out.push(
        diagnostic(
          span,
          'warning',
          'unclipped-windows',
          unclippedMessage(name, unclipped, file.values.valuesPerWindow),
          name,
        ),
      );
  }
  return out;
}
