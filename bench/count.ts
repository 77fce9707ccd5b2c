// Counts one mask the way a pool worker does (positional reads, streamed inflate) and prints
// the process's peak RSS: the memory a worker needs for it, including Node's own baseline.
import run from '../server/src/workers/worker';
import { peakRssOf } from './peakRss';

void run({ kind: 'nifti', path: process.argv[2], countVoxels: true }).then((result) => {
  if (!result.ok) throw new Error(result.error);
  process.stdout.write(JSON.stringify({ maxRssMb: peakRssOf(process.pid) }));
});
