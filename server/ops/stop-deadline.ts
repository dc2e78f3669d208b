import { Worker } from 'node:worker_threads';

/** A part of the service's stop (`TimeboxService.close`) starting or ending. */
export type StopProgress = (step: string, state: 'started' | 'finished') => void;

// The watchdog runs on its own thread: a timer on the main thread cannot fire while that thread is stuck
// in synchronous code, which is exactly when the deadline matters. Plain CommonJS, evaluated as is, so it
// needs neither a build step nor the TypeScript loader. At the deadline it writes one pino-shaped line
// naming the parts of the stop still open (to standard output where the logs go, else to standard
// error; both are non-blocking or files, so a lost reader cannot stall it) and ends the process with
// SIGKILL, the one ending that needs nothing from the stuck main thread.
const WATCHDOG_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const open = [];
parentPort.on('message', ({ step, state }) => {
  const at = open.indexOf(step);
  if (state === 'started' && at < 0) open.push(step);
  if (state === 'finished' && at >= 0) open.splice(at, 1);
});
setTimeout(() => {
  const line = JSON.stringify({
    level: 50,
    time: Date.now(),
    pid: process.pid,
    stillOpen: open,
    msg: 'the stop missed its deadline of ' + workerData.timeoutMs / 1000 + ' s: ending the process (SIGKILL)' +
      (open.length > 0 ? '; still open: ' + open.join(', ') : ''),
  }) + '\\n';
  try {
    writeSync(1, line);
  } catch {
    try { writeSync(2, line); } catch {}
  }
  process.kill(process.pid, 'SIGKILL');
}, workerData.timeoutMs);
`;

/**
 * The deadline of a stop, started with it: past `timeoutMs` the process logs what was still open and is
 * killed, whatever its main thread is doing. A stop that ends in time exits the process itself; the
 * watchdog never holds the process open.
 */
export class StopDeadline {
  private readonly watchdog: Worker;

  constructor(readonly timeoutMs: number) {
    this.watchdog = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { timeoutMs } });
    this.watchdog.unref();
  }

  /** Tells the watchdog which parts of the stop are under way, so a missed deadline names them. */
  readonly progress: StopProgress = (step, state) => {
    this.watchdog.postMessage({ step, state });
  };
}
