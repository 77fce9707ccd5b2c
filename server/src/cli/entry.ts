/**
 * The `neurocache` executable (out/cli.js). `--version` is answered here, from a bundle that
 * holds nothing else; every other command loads the CLI proper (out/cli-main.js: engine, pool,
 * service) on demand, so a version query costs about a bare `node` start; `manifest build` loads
 * out/cli-build.js, which holds that command only.
 */
import * as path from 'node:path';
import { NEUROCACHE_VERSION, VERSION_ARGUMENTS } from '../version';
import { exitQuietlyOnClosedPipe } from './closedPipe';

const argv = process.argv.slice(2);
if (VERSION_ARGUMENTS.has(argv[0])) {
  process.stdout.write(`neurocache ${NEUROCACHE_VERSION}\n`);
} else {
  // A path built at run time: the CLI proper is its own bundle next to this one, not inlined here;
  // a build, the command whose start-up matters most, has a bundle of its own.
  const bundle = argv[0] === 'manifest' && argv[1] === 'build' ? 'cli-build.js' : 'cli-main.js';
  // A check's first reads go out before the CLI proper is compiled (earlyReads.ts). Required, not
  // imported: only then does it size libuv's pool (a build sizes the pool itself, for its disk).
  const early =
    argv[0] === 'check'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- initialised for `check` only (see above)
        (require('./earlyReads') as typeof import('./earlyReads')).startCheckReads(argv.slice(1))
      : undefined;
  // Installed here: main.ts is loaded by require, so its own `require.main === module` start does
  // not run. After the check's first reads are on their way: it creates the stdout and stderr
  // streams (1-2 ms of CPU measured) that nothing writes to before the CLI proper has loaded.
  exitQuietlyOnClosedPipe();
  // Through the code cache the build leaves beside it, else as require would (codeCache.ts;
  // required here: node:vm and node:zlib are no part of a version query's start-up).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded for commands only (see above)
  const { loadBundle } = require('./codeCache') as typeof import('./codeCache');
  const cli = loadBundle(path.join(__dirname, bundle)) as typeof import('./main');
  void cli.main(argv, undefined, early).then((code) => {
    process.exitCode = code;
  });
}
