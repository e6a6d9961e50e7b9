/**
 * A reader that stops early (`npm run sim | head -1`) closes the pipe under
 * a CLI's stdout or stderr, and Node reports every later write as an
 * unhandled EPIPE 'error' event: the process crashed mid-run, losing what it
 * was doing (a jepsen run's teardown and stored results, a campaign's
 * verdict). Unix tools die of SIGPIPE there; these CLIs hold clusters and
 * files, so they finish instead: from the first EPIPE on, writes to that
 * stream are dropped, and the run ends with the exit code of its verdict.
 * Any other stream error is rethrown as before.
 */
export function keepRunningWhenReaderCloses(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      // The reader is gone: nobody will see another byte, so none is written (and no further error raised).
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
