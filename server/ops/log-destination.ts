import type { DestinationStream } from 'pino';

// A reader that stopped reading must not make the service hold its log lines without limit.
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Standard output as the log's destination, giving up once it cannot be written. pino's own destination
 * (sonic-boom 4) flushes synchronously when the process exits and retries a broken pipe (EPIPE) forever:
 * a service whose log reader had gone away (a restarted supervisor or log shipper, a closed terminal)
 * could never stop. Node's stdout stream reports a broken pipe as an error event and registers nothing
 * at exit; after its first error no line is written any more, and while the reader lags more than
 * 4 MiB behind, lines are dropped rather than queued.
 */
export function standardOutputLog(output: NodeJS.WritableStream = process.stdout): DestinationStream {
  let broken = false;
  output.on('error', () => {
    broken = true;
  });
  return {
    write(line: string) {
      if (broken || ('writableLength' in output && Number(output.writableLength) > MAX_QUEUED_BYTES)) return;
      try {
        output.write(line);
      } catch {
        // A file destination reports its errors here (synchronously) rather than as an event.
        broken = true;
      }
    },
  };
}

let shared: DestinationStream | null = null;

/** The process's one standard-output log destination (one error listener, however many loggers). */
export function processLogDestination(): DestinationStream {
  shared ??= standardOutputLog();
  return shared;
}
