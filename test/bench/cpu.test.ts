import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { describeCpu, measureCpu } from '../../bench/lib/cpu.js';

// The lifecycle bench splits its CPU time between the service, PostgreSQL and itself with this meter;
// a meter that read the wrong fields of /proc would send that analysis the wrong way.
describe('the bench CPU meter', () => {
  const children: ChildProcess[] = [];
  const start = (script: string): { child: ChildProcess; pid: number } => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    children.push(child);
    if (child.pid === undefined) throw new Error('the child did not start');
    return { child, pid: child.pid };
  };
  afterEach(async () => {
    await Promise.all(
      children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
  });

  it('counts a busy process near one core and a sleeping one near none', async () => {
    const busy = start('const end = Date.now() + 5000; while (Date.now() < end);').pid;
    const idle = start('setTimeout(() => {}, 5000);').pid;
    const usage = await measureCpu(
      new Map([
        ['busy', [busy]],
        ['idle', [idle]],
      ]),
      false,
      300,
      1500,
    );
    if (!usage) throw new Error('this Linux machine has /proc: the meter must read it');
    const cores = (name: string): number => (usage.seconds.get(name) ?? Number.NaN) / usage.elapsedSeconds;
    // One thread cannot pass one core (plus a tick of rounding); the machine may be shared with other suites.
    expect(cores('busy')).toBeGreaterThan(0.2);
    expect(cores('busy')).toBeLessThan(1.1);
    expect(cores('idle')).toBeLessThan(0.05);
    expect([...usage.seconds.keys()]).toEqual(['busy', 'idle', 'bench client']);
    expect(describeCpu(usage, 100)).toMatch(
      /^busy \d+\.\d\d ms \(\d\.\d\d cores\), idle 0\.\d\d ms \(0\.0\d cores\), bench client .+; \d\.\d\d of \d+ cores busy$/,
    );
  });

  it('counts a process that is gone as nothing, not as a failure', async () => {
    const gone = start('process.exit(0)');
    await once(gone.child, 'exit');
    const usage = await measureCpu(new Map([['gone', [gone.pid]]]), false, 0, 100);
    expect(usage?.seconds.get('gone')).toBe(0);
  });
});
