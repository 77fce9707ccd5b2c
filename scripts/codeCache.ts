/**
 * The last step of `npm run build`: V8 code caches for the CLI's bundles (server/src/cli/codeCache.ts
 * loads them). Each bundle runs its commands once on a small generated EEG cache, in a process of
 * its own (a fresh V8 with default flags, as the CLI starts), and then saves the bytecode of every
 * function that run compiled. The generated files are made in a temporary folder and removed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeCacheFile, compileBundle } from '../server/src/cli/codeCache';
import { writeFileAtomic } from '../server/src/service/atomic';
import { eegMembers, writeNpzFile } from '../test/writers/npz';

/** Each bundle and the commands (argv lists, `$dir` for the EEG cache) its cache is warmed with. */
const WARM_UPS: Record<string, string[][]> = {
  'cli-build.js': [['manifest', 'build', '$dir', '--cache-dir', '$dir/.store']],
  'cli-main.js': [
    ['check', '$dir/manifest.json', '--cache-dir', '$dir/.store'],
    ['stats', '$dir/manifest.json', '--cache-dir', '$dir/.store'],
  ],
};

/** In the child: runs `commands` through the bundle, then writes its cache beside it (atomically). */
async function makeCache(bundle: string, commands: string[][]): Promise<void> {
  const compiled = compileBundle(bundle);
  const cli = compiled.run() as { main(argv: string[]): Promise<number> };
  for (const argv of commands) await cli.main(argv);
  await writeFileAtomic(codeCacheFile(bundle), compiled.cacheBytes());
}

function eegCache(dir: string): void {
  for (let file = 0; file < 3; file++) {
    const windows = 4;
    const labels = new Float32Array(windows * 15360);
    for (let w = 1; w < windows; w++) labels.fill(1, w * 15360, w * 15360 + 5000 * w);
    writeNpzFile(path.join(dir, `s${file}_windows.npz`), eegMembers({ windows, labels, seed: file + 1 }), {
      compress: true,
    });
  }
}

if (process.argv[2] === '--make') {
  const [bundle, commands] = [process.argv[3], JSON.parse(process.argv[4]) as string[][]];
  makeCache(bundle, commands).catch((error: unknown) => {
    process.stderr.write(`code cache of ${bundle}: ${String(error)}\n`);
    process.exitCode = 1;
  });
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neurocache-code-cache-'));
  try {
    eegCache(dir);
    for (const [name, commands] of Object.entries(WARM_UPS)) {
      const argv = commands.map((c) => c.map((a) => a.replace('$dir', dir)));
      // Its commands' own output is not wanted, unless the cache could not be made.
      try {
        execFileSync(process.execPath, [__filename, '--make', path.join(__dirname, name), JSON.stringify(argv)], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } catch (error) {
        process.stderr.write((error as { stderr?: Buffer }).stderr ?? '');
        throw error;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
