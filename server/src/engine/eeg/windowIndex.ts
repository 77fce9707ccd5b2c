/**
 * What `int(item["window_idx"])` in BalancedSeizureDataset makes of a manifest value, and the
 * words for what it raises or changes.
 */
/**
 * What `int(item["window_idx"])` in BalancedSeizureDataset makes of a value: floats are
 * truncated, numeric strings and booleans converted, anything else raises (when training
 * takes the entry: every partial entry, and the picked full and no-seizure ones).
 */
export function pythonIndex(value: unknown): {
  value?: number;
  problem?: { severity: 'error' | 'warning'; message: string };
} {
  const raises = (exception: string) => ({
    problem: {
      severity: 'error' as const,
      message: `"window_idx" ${describeValue(value)}: int() raises ${exception} when BalancedSeizureDataset takes this entry.`,
    },
  });
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return raises('ValueError');
    if (!Number.isFinite(value)) return raises('OverflowError');
    const index = Math.trunc(value);
    if (index !== value)
      return {
        value: index,
        problem: {
          severity: 'warning',
          message: `"window_idx" ${value} is a float: int() truncates it, so training reads window ${index}.`,
        },
      };
    if (index < 0)
      return {
        value: index,
        problem: {
          severity: 'warning',
          message: `"window_idx" ${index} is negative: Python counts it from the end (windows[${index}]); the builder never writes negative indexes.`,
        },
      };
    return { value: index };
  }
  if (typeof value === 'boolean')
    return {
      value: Number(value),
      problem: { severity: 'warning', message: `"window_idx" ${value} is a bool: int() makes it ${Number(value)}.` },
    };
  if (typeof value === 'string') {
    // int(str): surrounding whitespace, a sign, digits with single underscores between them.
    const match = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(value);
    if (!match) return raises('ValueError');
    const index = Number(`${match[1]}${match[2].replace(/_/g, '')}`);
    return {
      value: index,
      problem: {
        severity: 'warning',
        message: `"window_idx" is the string ${JSON.stringify(value)}: int() converts it, so training reads window ${index}.`,
      },
    };
  }
  return raises('TypeError');
}

function describeValue(value: unknown): string {
  if (value === null) return 'is null';
  if (Array.isArray(value)) return 'is a list';
  if (typeof value === 'object') return 'is an object';
  if (typeof value === 'number') return `is ${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'}`;
  return `is ${JSON.stringify(value)}`;
}
