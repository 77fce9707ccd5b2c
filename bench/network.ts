/**
 * Network storage, simulated: a FUSE passthrough adds a delay to every open, read, stat and
 * readdir, with the kernel's caches off, as on the network volumes training boxes use. Two
 * harnesses, each row says which: bench/latencyfs.py (libfuse 2: the kernel serialises the first
 * lookup of each name in a directory) and bench/latencyfs3.py (libfuse 3: meant for lookups side
 * by side, as NFS clients do; pyfuse3 does not ask the kernel for parallel directory operations,
 * so first lookups are serialised too, but a listing (READDIRPLUS) makes every name known in one
 * round trip, see its docstring). Both trust nothing they served (entry and attribute timeouts
 * 0, which every row states). Over the same mount, in one run: brain-go-brr-v2's scan_existing_cache against
 * `neurocache manifest build` (time, identical manifest, bytes and reads per file counted by the
 * FUSE layer), then a re-check of the unchanged cache from warm fingerprints (also on fresh
 * mounts, and there at 0 ms per access: its CPU and start-up alone). NeuroCache builds once on a
 * fresh mount and again after Python has walked it (names known to the kernel); every row says
 * which of the two conditions it was measured in.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { TAIL_READ } from '../server/src/engine/io/zip';

export interface Row {
  task: string;
  subject: string;
  median: number;
  unit: string;
  ratio?: string;
  note?: string;
}

interface FileCounts {
  opens: number;
  reads: number;
  bytes: number;
  getattrs: number;
}
interface Stats {
  /** Seconds the kernel may trust a name and attributes the harness served. */
  timeouts: { entry: number; attr: number };
  totals: Record<string, number>;
  maxInFlight: number;
  /** The longest chain of delayed requests each sent after the one before it was answered. */
  chain: number;
  files: Record<string, FileCounts>;
}

const STATS_FILE = '.latencyfs-stats';

/** A FUSE harness: its script, the library it runs on and the unmount command for it. */
interface Harness {
  name: string;
  script: string;
  fusermount: string;
}

const HARNESSES: Harness[] = [
  { name: 'libfuse2 harness (first lookups serialised)', script: 'latencyfs.py', fusermount: 'fusermount' },
  {
    name: 'libfuse3 harness (pyfuse3: first lookups serialised too; READDIRPLUS)',
    script: 'latencyfs3.py',
    fusermount: 'fusermount3',
  },
];

/** Whether /usr/bin/python3 can run the libfuse 3 harness (Debian's python3-pyfuse3 and fuse3). */
function hasPyfuse3(python: string): boolean {
  return (
    existsSync('/usr/bin/fusermount3') &&
    spawnSync(python, ['-c', 'import pyfuse3, trio'], { stdio: 'ignore' }).status === 0
  );
}

/** A python3 that can run the harness (fusepy) and one with numpy; installs fusepy if allowed. */
function harnessPython(): string | { skip: string } {
  const python = '/usr/bin/python3';
  const hasFusepy = () =>
    spawnSync(python, ['-c', 'import fusepy'], { stdio: 'ignore' }).status === 0 ||
    spawnSync(python, ['-c', 'from fuse import FUSE, Operations'], { stdio: 'ignore' }).status === 0;
  if (!existsSync('/dev/fuse')) return { skip: 'no /dev/fuse on this machine' };
  if (!hasFusepy() || !existsSync('/usr/bin/fusermount')) {
    const apt = spawnSync('apt-get', ['install', '-y', '-qq', 'python3-fusepy', 'fuse3'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (apt.status !== 0 || !hasFusepy())
      return { skip: 'python3-fusepy could not be installed (apt-get install python3-fusepy fuse3 as root)' };
  }
  return python;
}

/** A mounted latencyfs; `unmount` is idempotent and also runs on exit and on Ctrl-C. */
class LatencyMount {
  private child?: ChildProcess;
  private readonly cleanup = () => this.unmountNow();

  constructor(
    readonly source: string,
    readonly mountpoint: string,
    readonly delayMs: number,
    readonly harness: Harness,
  ) {}

  /** `delayMs`: this mount's delay per access, if not the one it was made with. */
  async mount(python: string, delayMs = this.delayMs): Promise<void> {
    this.unmountNow(); // a mount left behind by an interrupted run
    // An empty directory to mount on (never removed while mounted: that would reach the source).
    if (isMounted(this.mountpoint)) throw new Error(`${this.mountpoint} is still mounted`);
    rmSync(this.mountpoint, { recursive: true, force: true });
    mkdirSync(this.mountpoint, { recursive: true });
    // Its messages go to a file, not a pipe: the benchmark waits in synchronous calls and would
    // not drain a pipe, and a daemon blocked writing to it would stall the mount.
    const log = openSync(`${this.mountpoint}.log`, 'w');
    this.child = spawn(
      python,
      [
        path.join(__dirname, '..', 'bench', this.harness.script),
        this.source,
        this.mountpoint,
        '--delay-ms',
        String(delayMs),
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    process.once('exit', this.cleanup);
    process.once('SIGINT', this.onInterrupt);
    for (let waited = 0; ; waited += 100) {
      if (this.child.exitCode !== null)
        throw new Error(
          `latencyfs exited: ${readFileSync(`${this.mountpoint}.log`, 'utf8').trim().split('\n').slice(-3).join(' ')}`,
        );
      try {
        readFileSync(path.join(this.mountpoint, STATS_FILE));
        return;
      } catch {
        if (waited > 15000) throw new Error('latencyfs did not mount within 15 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /**
   * Read first, asked whether still mounted only when that fails: isMounted's realpath stats the
   * mount's root, a delayed request, which would then count in the next command's chain of round trips.
   */
  stats(): Stats {
    try {
      return JSON.parse(readFileSync(path.join(this.mountpoint, STATS_FILE), 'utf8'));
    } catch (error) {
      if (!isMounted(this.mountpoint)) throw new Error('latencyfs is no longer mounted');
      throw error;
    }
  }

  async unmount(): Promise<void> {
    const child = this.child;
    this.unmountNow();
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (child.kill('SIGKILL'), resolve()), 5000);
        child.once('exit', () => (clearTimeout(timer), resolve()));
      });
    }
    process.off('exit', this.cleanup);
    process.off('SIGINT', this.onInterrupt);
  }

  private readonly onInterrupt = () => {
    this.unmountNow();
    process.exit(130);
  };

  private unmountNow(): void {
    if (isMounted(this.mountpoint))
      spawnSync(this.harness.fusermount, ['-u', '-z', this.mountpoint], { stdio: 'ignore' });
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

function isMounted(mountpoint: string): boolean {
  // /proc/mounts names the real path (a link on the way resolved).
  let resolved = path.resolve(mountpoint);
  try {
    resolved = realpathSync(resolved);
  } catch {
    // not there (yet): compared as given
  }
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === resolved);
}

/** Caches as numpy writes them (savez_compressed: windows first, then labels); mostly background windows. */
function writeCaches(python: string, dir: string, files: number): void {
  if (existsSync(path.join(dir, '.complete'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(python, [
    '-c',
    `
import numpy as np, sys
out, files = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(12)
for f in range(files):
    n = int(rng.integers(40, 80))
    labels = np.zeros((n, 15360), np.float32)
    for w in range(n):
        kind = rng.random()
        if kind < 0.1:
            labels[w] = 1
        elif kind < 0.3:
            start = int(rng.integers(0, 15000)); labels[w, start:start + int(rng.integers(1, 15360 - start))] = 1
    # Small windows keep generation quick; the layout is numpy's own (windows is the big first member).
    windows = rng.standard_normal((n, 19, 256)).astype(np.float32)
    np.savez_compressed(f"{out}/sub-{f:05d}_windows.npz", windows=windows, labels=labels)
`,
    dir,
    String(files),
  ]);
  writeFileSync(path.join(dir, '.complete'), '');
}

/** Per-file counts between two snapshots, averaged over the `.npz` files. */
function perFile(before: Stats, after: Stats): FileCounts & { files: number } {
  const sum = { opens: 0, reads: 0, bytes: 0, getattrs: 0, files: 0 };
  for (const [name, counts] of Object.entries(after.files)) {
    if (!name.endsWith('.npz')) continue;
    const was = before.files[name] ?? { opens: 0, reads: 0, bytes: 0, getattrs: 0 };
    sum.files++;
    for (const key of ['opens', 'reads', 'bytes', 'getattrs'] as const) sum[key] += counts[key] - was[key];
  }
  const n = Math.max(1, sum.files);
  return {
    opens: sum.opens / n,
    reads: sum.reads / n,
    bytes: sum.bytes / n,
    getattrs: sum.getattrs / n,
    files: sum.files,
  };
}

function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

export async function benchNetwork(options: {
  data: string;
  quick: boolean;
  cli: string;
  numpy?: string;
}): Promise<Row[]> {
  const rows: Row[] = [];
  const task = 'network storage (FUSE, latency per open/read/stat/readdir)';
  const python = harnessPython();
  if (typeof python !== 'string')
    return [{ task, subject: 'skipped', median: NaN, unit: '', note: `skipped: ${python.skip}` }];
  if (!options.numpy)
    return [{ task, subject: 'skipped', median: NaN, unit: '', note: 'skipped: no python3 with numpy' }];
  // --quick is a smoke run (start-up dominates): the issue's targets apply to the full sizes.
  const delayMs = options.quick ? 10 : 50;
  const targets = !options.quick;
  const sizes = options.quick ? [8, 24] : [40, 400];
  const harnesses = HARNESSES.filter((h) => h.script === 'latencyfs.py' || hasPyfuse3(python));
  if (harnesses.length < HARNESSES.length)
    rows.push({
      task,
      subject: 'libfuse3 harness skipped',
      median: NaN,
      unit: '',
      note: 'skipped: no python3-pyfuse3',
    });
  for (const files of sizes) {
    const source = path.join(options.data, `network-${files}`);
    writeCaches(options.numpy, source, files);
    for (const harness of harnesses) {
      const measured = await measure(harness, files, source);
      // Also as they come: a 400-file run takes many minutes, and a later failure must not lose them.
      for (const row of measured) process.stderr.write(`network: ${JSON.stringify(row)}\n`);
      rows.push(...measured);
    }
  }
  return rows;

  /** One harness, one size, interleaved: ours on a fresh mount, Python on a fresh mount, ours again, re-checks. */
  async function measure(harness: Harness, files: number, source: string): Promise<Row[]> {
    const out: Row[] = [];
    rmSync(path.join(source, 'manifest.json'), { force: true });
    const mount = new LatencyMount(source, path.join(options.data, 'network-mnt'), delayMs, harness);
    try {
      const dir = mount.mountpoint;
      const label = `${files} files, ${delayMs} ms per access, ${harness.name}`;
      const store = path.join(options.data, 'network-fingerprints');
      const buildOnce = () => {
        rmSync(store, { recursive: true, force: true });
        return timed(() =>
          execFileSync(process.execPath, [options.cli, 'manifest', 'build', dir, '--cache-dir', store, '--json'], {
            stdio: 'ignore',
          }),
        );
      };
      const remount = async () => {
        await mount.unmount();
        await mount.mount(python as string);
      };

      // NeuroCache alone on a fresh mount first: no name known to the kernel yet (with libfuse 2
      // the kernel then serialises the first lookup of each name; libfuse 3 looks up in parallel).
      await mount.mount(python as string);
      let before = mount.stats();
      const freshMs = buildOnce();
      const freshCounts = perFile(before, mount.stats());
      rmSync(path.join(source, 'manifest.json'), { force: true });
      await remount();

      // Python on a fresh mount too. The serial scan loses nothing to serialised first lookups and
      // leaves every name known (later lookups are revalidations, which run in parallel).
      before = mount.stats();
      const pythonMs = timed(() =>
        execFileSync(options.numpy!, [path.join(__dirname, '..', 'bench', 'scan_existing_cache.py'), dir], {
          stdio: 'ignore',
        }),
      );
      const numpyCounts = perFile(before, mount.stats());
      const expected = readFileSync(path.join(source, 'manifest.json'), 'utf8');
      rmSync(path.join(source, 'manifest.json'));

      // Ours is cheap enough to take the median of three cold builds (a fresh fingerprint store each).
      before = mount.stats();
      const builds = [buildOnce()];
      const after = mount.stats();
      builds.push(buildOnce(), buildOnce());
      const oursMs = builds.sort((a, b) => a - b)[1];
      const ourCounts = perFile(before, after);
      const identical = readFileSync(path.join(source, 'manifest.json'), 'utf8') === expected;

      // Re-check of the unchanged cache: the build left warm fingerprints.
      let contentBytes = -1;
      // Its time, and the serial round trips of its requests as the harness counts them (the longest
      // chain of requests each sent after the last was answered: the client's CPU time left out).
      const check = () => {
        const chainBefore = mount.stats().chain;
        const ms = timed(() => {
          const run = spawnSync(
            process.execPath,
            [options.cli, 'check', path.join(dir, 'manifest.json'), '--cache-dir', store, '--json'],
            // Its report names every file's findings: megabytes at 400 files.
            { encoding: 'utf8', maxBuffer: 1 << 30 },
          );
          if (run.status !== 0 && run.status !== 1)
            throw new Error(`neurocache check failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
          contentBytes = JSON.parse(run.stdout).io.bytesRead;
        });
        return { ms, chain: mount.stats().chain - chainBefore };
      };
      const median = (samples: { ms: number; chain: number }[]) =>
        samples.sort((a, b) => a.ms - b.ms)[samples.length >> 1];
      const recheck = median([check(), check(), check()]);
      const beforeCheck = mount.stats();
      const recheckLast = check().ms;
      const checkCounts = perFile(beforeCheck, mount.stats());
      // And on fresh mounts, every name looked up for the first time: a median of 3 as above (one
      // run alone moves by a round trip or more with the load of a 2-core machine).
      const onFreshMounts = async (delay: number) => {
        const samples = [];
        for (let run = 0; run < 3; run++) {
          await mount.unmount();
          await mount.mount(python as string, delay);
          samples.push(check());
        }
        return median(samples);
      };
      const recheckFresh = await onFreshMounts(delayMs);
      // The same re-checks with no delay: what is CPU and start-up, not waiting for replies.
      const recheckInstant = await onFreshMounts(0);

      const bound = numpyCounts.bytes + TAIL_READ;
      const buildTarget = targets ? ` (target ≥ ${files >= 400 ? 100 : 35}×)` : '';
      const { entry, attr } = mount.stats().timeouts;
      const timeouts = `entry timeout ${entry} s, attributes ${attr} s`;
      const fresh = `fresh mount; ${timeouts}`;
      const warm = `warm directory entries: after Python walked the mount; ${timeouts}`;
      const counts = (c: FileCounts) =>
        `${c.reads.toFixed(1)} reads, ${kB(c.bytes)}, ${c.getattrs.toFixed(1)} lookups+stats, ${c.opens.toFixed(0)} open per file`;
      out.push({
        task: `manifest build, ${label}`,
        subject: `Python scan_existing_cache (numpy) [${fresh}]`,
        median: pythonMs / 1000,
        unit: 's',
        ratio: counts(numpyCounts),
      });
      out.push({
        task: '',
        subject: `neurocache manifest build [${fresh}]`,
        median: freshMs / 1000,
        unit: 's',
        ratio: `${(pythonMs / freshMs).toFixed(1)}× faster than Python's fresh-mount run${buildTarget}; ${counts(freshCounts)}`,
      });
      out.push({
        task: '',
        subject: `neurocache manifest build, median of 3 [${warm}]`,
        median: oursMs / 1000,
        unit: 's',
        ratio: `${(pythonMs / oursMs).toFixed(1)}× faster${buildTarget}; manifest ${identical ? 'identical' : 'DIFFERS'}`,
      });
      out.push({
        task: '',
        subject: `  its reads per file [${warm}]`,
        median: ourCounts.reads,
        unit: '',
        ratio: `${kB(ourCounts.bytes)}, ${ourCounts.getattrs.toFixed(1)} lookups+stats, ${ourCounts.opens.toFixed(0)} open; bytes ${ourCounts.bytes <= bound ? '≤' : 'EXCEED'} numpy's + 64 KiB (${kB(bound)}); peak ${after.maxInFlight} requests in flight`,
      });
      const trips = ({ ms, chain }: { ms: number; chain: number }) =>
        `${(ms / (files * delayMs)).toFixed(3)} serial round trips per file, ${(ms / delayMs).toFixed(1)} in all incl. start-up (its requests: a chain of ${chain})`;
      const recheckTarget = targets && files <= 40 ? ` (target ≤ 0.2, i.e. ${(0.2 * files).toFixed(0)} in all)` : '';
      out.push({
        task: `re-check unchanged cache, ${label}`,
        subject: `neurocache check, warm fingerprints, median of 3 [${warm}]`,
        median: recheck.ms / 1000,
        unit: 's',
        ratio: `${trips(recheck)}${recheckTarget}; ${contentBytes} content bytes; ${checkCounts.getattrs.toFixed(1)} lookups+stats, ${checkCounts.reads} reads per file; last run ${(recheckLast / 1000).toFixed(2)} s`,
      });
      out.push({
        task: '',
        subject: `neurocache check, warm fingerprints, median of 3 [${fresh}]`,
        median: recheckFresh.ms / 1000,
        unit: 's',
        ratio: `${trips(recheckFresh)}${recheckTarget}`,
      });
      out.push({
        task: '',
        subject: `  the same at 0 ms per access: CPU and start-up alone, median of 3 [${fresh}]`,
        median: recheckInstant.ms / 1000,
        unit: 's',
        ratio: `${(recheckInstant.ms / delayMs).toFixed(1)} of the ${(recheckFresh.ms / delayMs).toFixed(1)} round trips in all above (${delayMs} ms each) are CPU and start-up, not waits for replies`,
      });
    } finally {
      await mount.unmount();
    }
    return out;
  }
}
