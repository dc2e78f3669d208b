import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A GNOME Keyring of its own, on a D-Bus bus of its own, for the suites that lock it, unlock it and kill
 * it: the keyring test/with-keyring.mjs shares with every other suite is never touched. The bus has no
 * service directories, so D-Bus activation can neither start nor replace anything; HOME and
 * XDG_RUNTIME_DIR are a temp folder, GNOME_KEYRING_CONTROL is unset. Only the PIDs started here are
 * ever killed.
 */
export interface PrivateKeyring {
  /** DBUS_SESSION_BUS_ADDRESS of the private bus. */
  readonly address: string;
  /** The environment that reaches this keyring (for gdbus, and for keytar before its first call). */
  readonly environment: NodeJS.ProcessEnv;
  /** Locks the login collection, as a screen lock does (org.freedesktop.Secret.Service.Lock). */
  lock(): Promise<void>;
  /** Unlocks it with its password, through the daemon's control socket (what PAM does at login). */
  unlock(): Promise<void>;
  locked(): Promise<boolean>;
  /** The bus disappears (the keyring daemon goes with it). */
  killBus(): void;
  stop(): void;
}

const PASSWORD = 'timebox-private';

export const privateKeyringPossible =
  process.platform === 'linux' &&
  ['dbus-daemon', 'gnome-keyring-daemon', 'gdbus'].every(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0,
  );

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const home = mkdtempSync(join(tmpdir(), 'timebox-private-keyring-'));
  const runtime = join(home, 'runtime');
  mkdirSync(runtime);
  chmodSync(runtime, 0o700);
  const config = join(home, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=${home}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
  );
  const started: ChildProcess[] = [];
  const bus = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  started.push(bus);
  const address = await firstLine(bus, 5000);
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    DBUS_SESSION_BUS_ADDRESS: address,
  };
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--components=secrets', '--unlock'], {
    env: environment,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  started.push(daemon);
  daemon.stdin.end(PASSWORD);
  // Whatever way this process ends (a crash included: a SIGSEGV runs no exit handler), the pipe to the
  // watchdog closes and it kills exactly the two processes started here, and their folder.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      'cat >/dev/null; kill -9 "$0" "$1" 2>/dev/null; rm -rf "$2"',
      String(bus.pid),
      String(daemon.pid),
      home,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref(); // it never keeps the test process alive

  const gdbus = (objectPath: string, method: string, ...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        'gdbus',
        [
          'call',
          '--session',
          '--dest',
          'org.freedesktop.secrets',
          '--object-path',
          objectPath,
          '--method',
          method,
          ...args,
        ],
        { env: environment, timeout: 5000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`gdbus ${method}: ${stderr || error.message}`));
          else resolve(stdout);
        },
      );
    });
  const login = '/org/freedesktop/secrets/collection/login';
  const locked = async () =>
    (
      await gdbus(login, 'org.freedesktop.DBus.Properties.Get', 'org.freedesktop.Secret.Collection', 'Locked')
    ).includes('true');

  const stop = () => {
    // The watchdog first, so that it never kills a PID after its process is gone.
    watchdog.kill('SIGKILL');
    watchdog.stdin.destroy();
    for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => !(await locked()), 'the private keyring');
  } catch (error) {
    stop();
    throw error;
  }

  return {
    address,
    environment,
    async lock() {
      await gdbus('/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', `['${login}']`);
      if (!(await locked())) throw new Error('the private keyring did not lock');
    },
    async unlock() {
      await controlUnlock(join(runtime, 'keyring', 'control'), PASSWORD);
      if (await locked()) throw new Error('the private keyring did not unlock');
    },
    locked,
    killBus() {
      if (bus.exitCode === null) bus.kill('SIGKILL');
    },
    stop,
  };
}

/**
 * gnome-keyring-daemon's control socket (gkd-control-client.c): a credentials byte, then a packet of
 * big-endian uint32 length, uint32 operation (1: unlock) and the password as a length-prefixed string;
 * the answer is length and result (0: done).
 */
function controlUnlock(socketPath: string, password: string): Promise<void> {
  const secret = Buffer.from(password);
  const packet = Buffer.alloc(12 + secret.length);
  packet.writeUInt32BE(packet.length, 0);
  packet.writeUInt32BE(1, 4);
  packet.writeUInt32BE(secret.length, 8);
  secret.copy(packet, 12);
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath, () => {
      socket.write(Buffer.from([0]));
      socket.write(packet);
    });
    socket.setTimeout(5000, () => {
      socket.destroy(new Error('the keyring control socket did not answer'));
    });
    socket.once('data', (answer) => {
      socket.end();
      if (answer.length >= 8 && answer.readUInt32BE(4) === 0) resolve();
      else reject(new Error(`the keyring refused to unlock (${answer.toString('hex')})`));
    });
    socket.once('error', reject);
  });
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      reject(new Error('dbus-daemon printed no address'));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(text.slice(0, newline).trim());
      }
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start: ${String(lastError)}`);
}
