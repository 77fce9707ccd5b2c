/**
 * A reader that stops early (`neurocache stats … | head -1`) closes the pipe, and the next write
 * fails with EPIPE. Node ignores SIGPIPE, so without a handler that error is an unhandled 'error'
 * event: a stack trace and exit 1. The command ends quietly instead, with the status a shell
 * reports for grep or cat killed by SIGPIPE (128 + 13); any other stream error is still raised.
 */
export const CLOSED_PIPE_EXIT_CODE = 128 + 13;

export function exitQuietlyOnClosedPipe(streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(CLOSED_PIPE_EXIT_CODE);
    });
  }
}
