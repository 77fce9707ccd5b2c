/**
 * out/cli-build.js, which entry.ts starts for `neurocache manifest build …`: that command alone,
 * without compiling the rest of the CLI (checks, stats, reports). Anything it does not run
 * itself (a request for help, another command) goes to the whole CLI, which answers as always.
 */
import '../threadpool'; // first: sizes libuv's thread pool before any fs call starts it
import { bundleBeside } from '../bundles';
import { Io, reportFailure } from './commandIo';
import { manifestBuild } from './manifestBuild';
import { asksForHelp, findCommand, parseCommand } from './spec';

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const found = findCommand(argv);
  if (found?.command.name !== 'manifest build' || asksForHelp(found.rest)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle found at run time, not bundled in
    const cli: typeof import('./main') = require(bundleBeside('cli-main.js'));
    return cli.main(argv, io);
  }
  try {
    return await manifestBuild(parseCommand(found.command, found.rest), io);
  } catch (error) {
    return reportFailure(error, found.command, io);
  }
}
