/**
 * What training's reads cost (SPEC §1.2c): `BalancedSeizureDataset.__getitem__` opens the file
 * and takes `data["windows"][w_idx]` and `data["labels"][w_idx]`, and numpy inflates a member
 * whole to index it, so every sample costs its file's whole `windows` and `labels` members —
 * the number that explains slow epochs on network storage. Per epoch: the balanced set
 * training builds for the seed (every partial window, the picked full and no-seizure ones).
 */
import { balancedPicks, CompositionSettings, DEFAULT_COMPOSITION } from './composition';
import type { CacheFileFacts } from './manifestCheck';
import type { ParsedManifest } from './manifestParse';
import type { NpzSummary } from './npz';
import { parseNumpyDescr } from '../numpy/elements';

export interface SampleCost {
  /** Bytes numpy inflates (zipfile delivers) to give one sample: both members whole. */
  inflated: number;
  /** Bytes of those members in the file: read from storage. */
  stored: number;
  /** Bytes of the one window the sample uses. */
  used: number;
}

export interface ReadCost {
  /** Per sample, averaged over the epoch's samples whose files were read. */
  perSample: SampleCost;
  /** One epoch of the balanced set for `seed`. */
  epoch: SampleCost & {
    seed: number;
    samples: number;
    /** Samples whose file exists but whose members are not known (unreadable). */ unknown: number;
  };
}

/** One sample of `summary`'s file, or undefined when its members are not known. */
export function sampleCost(summary: NpzSummary): SampleCost | undefined {
  const { windows, labels } = summary.members;
  if (!windows) return undefined;
  const window = (summary.windowsShape ?? []).slice(1).reduce((a, b) => a * b, 1) * elementSize(summary.windowsDtype);
  return {
    inflated: windows.inflated + (labels?.inflated ?? 0),
    stored: windows.stored + (labels?.stored ?? 0),
    used: summary.windowsShape?.length ? window : 0,
  };
}

function elementSize(dtype: string | undefined): number {
  try {
    return dtype ? parseNumpyDescr(dtype).size : 0;
  } catch {
    return 0;
  }
}

/** The epoch's cost; undefined when no file's members are known (contents not read). */
export function trainingReadCost(
  parsed: ParsedManifest,
  facts: CacheFileFacts[],
  settings: CompositionSettings = DEFAULT_COMPOSITION,
): ReadCost | undefined {
  const perFile = facts.map((f) => (f.summary ? sampleCost(f.summary) : undefined));
  if (!perFile.some(Boolean)) return undefined;
  const picks = balancedPicks(parsed, settings);
  const epoch = { seed: settings.seed, samples: 0, unknown: 0, inflated: 0, stored: 0, used: 0 };
  // List by list, not joined into one: on a 1M-entry manifest that array alone is megabytes per check.
  for (const list of [picks.partial, picks.full, picks.background])
    for (const i of list) {
      const id = parsed.entries.file.at(i);
      // Training skips entries whose file is missing.
      if (id < 0 || !facts[id]?.exists) continue;
      const cost = perFile[id];
      if (!cost) {
        epoch.unknown++;
        continue;
      }
      epoch.samples++;
      epoch.inflated += cost.inflated;
      epoch.stored += cost.stored;
      epoch.used += cost.used;
    }
  const per = (n: number) => (epoch.samples ? n / epoch.samples : 0);
  return { perSample: { inflated: per(epoch.inflated), stored: per(epoch.stored), used: per(epoch.used) }, epoch };
}
