/** The three window categories of a seizure manifest and the rule that assigns them. */

export type Category = 'partial_seizure' | 'full_seizure' | 'no_seizure';
export const CATEGORIES: readonly Category[] = ['partial_seizure', 'full_seizure', 'no_seizure'];

/**
 * The reference categorisation: ratio = mean(labels[w] > 0); 0 -> no seizure,
 * >= 0.99 -> full, else partial. An empty window gives NaN, which numpy files as partial.
 */
export function windowCategory(positives: number, samples: number): Category {
  const ratio = positives / samples;
  if (ratio === 0) return 'no_seizure';
  if (ratio >= 0.99) return 'full_seizure';
  return 'partial_seizure';
}
