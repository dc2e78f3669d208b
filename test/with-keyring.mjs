#!/usr/bin/env node
// Runs a command (the test runner) where the OS keychain works: on Linux, inside a private D-Bus
// session with an unlocked GNOME Keyring, HOME and XDG_RUNTIME_DIR in a throwaway folder, so tests never
// touch the developer's own keyring. Elsewhere, or where those tools are missing, the command runs as
// is, and the keychain suites say why they cannot run (in CI that fails the run).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node test/with-keyring.mjs <command> [args…]');
  process.exit(2);
}
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const run = (file, args, env) => spawnSync(file, args, { stdio: 'inherit', env }).status ?? 1;

if (
  process.platform !== 'linux' ||
  process.env.TIMEBOX_KEYRING_READY === '1' ||
  !has('dbus-run-session') ||
  !has('gnome-keyring-daemon')
) {
  if (process.platform === 'linux' && process.env.TIMEBOX_KEYRING_READY !== '1') {
    console.warn(
      'dbus-run-session or gnome-keyring-daemon is missing: the keychain suites cannot use a real Secret Service here.',
    );
  }
  process.exit(run(command[0], command.slice(1), process.env));
}

const home = mkdtempSync(join(tmpdir(), 'timebox-keyring-'));
const runtime = join(home, 'runtime');
spawnSync('mkdir', ['-p', runtime]);
chmodSync(runtime, 0o700);
const script =
  'eval "$(printf timebox | gnome-keyring-daemon --replace --unlock --components=secrets --daemonize)"; export GNOME_KEYRING_CONTROL; exec "$@"';
const status = run('dbus-run-session', ['--', 'sh', '-c', script, 'sh', ...command], {
  ...process.env,
  HOME: home,
  XDG_RUNTIME_DIR: runtime,
  TIMEBOX_KEYRING_READY: '1',
});
rmSync(home, { recursive: true, force: true });
process.exit(status);
