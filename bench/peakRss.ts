import { readFileSync } from 'node:fs';

/**
 * A process's peak resident memory in MB: the high-water mark of its own address space (VmHWM).
 * Not getrusage's maxRSS: Linux carries that over from the parent through fork and exec, so a
 * child of a 400 MB bench process reported 400 MB. Off Linux, this process's getrusage figure.
 */
export function peakRssOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    if (line) return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    // No /proc: below.
  }
  return pid === process.pid ? process.resourceUsage().maxRSS / 1024 : NaN;
}
