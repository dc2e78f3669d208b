// Runs after `npm install` (the root package's postinstall): checks that the native keychain module, which
// the desktop app keeps credentials in the OS keychain with, loads; when it does not, says what this machine
// lacks to build it and how to install that, and fails the install.
//
// Why a check after the install: the module comes as a prebuilt binary, downloaded by its own install
// script, and is compiled from source when the download fails (offline, a proxy, a platform without one).
// Compiling needs a C++ toolchain, Python and, on Linux, libsecret's development files. As a regular
// dependency its failed build stops `npm install` before any script of ours runs, with node-gyp's trace and
// nothing else. It is an optional dependency instead: npm sets its failure aside, and this script explains.
//
// Another native keychain module: change KEYCHAIN_MODULE (and package.json's optionalDependencies). What
// building it needs is the same for any module that talks to the Secret Service through libsecret.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const KEYCHAIN_MODULE = 'keytar';

/** The Linux families we name packages for, each with how to install and the packages for each need. */
const LINUX_FAMILIES = {
  debian: {
    install: 'sudo apt-get install',
    libsecret: 'libsecret-1-dev',
    pkgConfig: 'pkg-config',
    python: 'python3',
    compiler: 'build-essential',
  },
  fedora: {
    install: 'sudo dnf install',
    libsecret: 'libsecret-devel',
    pkgConfig: 'pkgconf-pkg-config',
    python: 'python3',
    compiler: 'gcc-c++ make',
  },
  suse: {
    install: 'sudo zypper install',
    libsecret: 'libsecret-devel',
    pkgConfig: 'pkg-config',
    python: 'python3',
    compiler: 'gcc-c++ make',
  },
  arch: {
    install: 'sudo pacman -S --needed',
    libsecret: 'libsecret',
    pkgConfig: 'pkgconf',
    python: 'python',
    compiler: 'base-devel',
  },
  alpine: {
    install: 'sudo apk add',
    libsecret: 'libsecret-dev',
    pkgConfig: 'pkgconf',
    python: 'python3',
    compiler: 'build-base',
  },
};

/**
 * The family of a Linux distribution from its /etc/os-release (ID, then ID_LIKE: Ubuntu is like Debian,
 * Rocky like RHEL and Fedora); null when it is none we know.
 * @param {string | null} osRelease
 * @returns {keyof typeof LINUX_FAMILIES | null}
 */
export function linuxFamily(osRelease) {
  if (osRelease === null) return null;
  const field = (name) =>
    new RegExp(`^${name}=["']?([^"'\\n]*)`, 'm').exec(osRelease)?.[1]?.toLowerCase().split(/\s+/) ?? [];
  for (const id of [...field('ID'), ...field('ID_LIKE')]) {
    if (id in LINUX_FAMILIES) return /** @type {keyof typeof LINUX_FAMILIES} */ (id);
    if (['ubuntu', 'linuxmint', 'pop', 'raspbian'].includes(id)) return 'debian';
    if (['rhel', 'centos', 'rocky', 'almalinux'].includes(id)) return 'fedora';
    if (['opensuse', 'opensuse-leap', 'opensuse-tumbleweed', 'sles'].includes(id)) return 'suse';
    if (['manjaro', 'endeavouros'].includes(id)) return 'arch';
  }
  return null;
}

/**
 * What to tell a person whose keychain module does not load: why, what is missing to build it, and the
 * command that installs it.
 * @param {{
 *   platform: string,
 *   loadError: { code?: string, message: string },
 *   osRelease: string | null,
 *   has: (command: string) => boolean,
 *   pkgConfigHas: (module: string) => boolean,
 * }} facts
 * @returns {string}
 */
export function explain({ platform, loadError, osRelease, has, pkgConfigHas }) {
  const notInstalled =
    loadError.code === 'MODULE_NOT_FOUND' && loadError.message.includes(`'${KEYCHAIN_MODULE}'`);
  const lines = notInstalled
    ? [
        `the native keychain module (${KEYCHAIN_MODULE}) is not installed: npm could not download a prebuilt`,
        'binary of it for this machine, and could not build it from source.',
      ]
    : [
        `the native keychain module (${KEYCHAIN_MODULE}) is installed but does not load:`,
        `  ${loadError.message}`,
      ];

  if (platform === 'linux') {
    const family = linuxFamily(osRelease);
    const names = family ? LINUX_FAMILIES[family] : null;
    if (!notInstalled) {
      lines.push(
        'It needs libsecret at run time' +
          (names ? ` (${names.install} ${family === 'debian' ? 'libsecret-1-0' : 'libsecret'})` : '') +
          ', and a Secret Service (GNOME Keyring or KWallet) in the desktop session.',
      );
      return lines.join('\n');
    }
    /** @type {[string, string][]} what is missing, and the package key that provides it */
    const missing = [];
    if (!pkgConfigHas('libsecret-1'))
      missing.push(["libsecret's development files (pkg-config cannot find libsecret-1)", 'libsecret']);
    if (!has('pkg-config')) missing.push(['pkg-config, which finds libsecret for the build', 'pkgConfig']);
    if (!has('python3')) missing.push(['Python 3, which node-gyp runs', 'python']);
    if (!has('make') || !(has('c++') || has('g++'))) missing.push(['a C++ compiler and make', 'compiler']);
    return [...lines, ...buildAdvice(missing, names)].join('\n');
  }
  if (platform === 'darwin') {
    if (!notInstalled) return lines.join('\n');
    const missing = [];
    if (!has('xcode-select') || !has('c++'))
      missing.push('the Xcode Command Line Tools: xcode-select --install');
    if (!has('python3'))
      missing.push('Python 3 (https://www.python.org/downloads/macos/, or brew install python)');
    return [
      ...lines,
      ...buildAdvice(
        missing.map((what) => [what, null]),
        null,
      ),
    ].join('\n');
  }
  if (platform === 'win32') {
    if (!notInstalled) return lines.join('\n');
    return [
      ...lines,
      'Building it needs Visual Studio Build Tools with the "Desktop development with C++" workload',
      '(https://visualstudio.microsoft.com/visual-cpp-build-tools/) and Python 3 (winget install Python.Python.3.12).',
      'Install them, then run npm install again.',
    ].join('\n');
  }
  return [...lines, `Timebox has no keychain support on ${platform}.`].join('\n');
}

/**
 * @param {[string, string | null][]} missing
 * @param {Record<string, string> | null} names the family's package names, when we know them
 * @returns {string[]}
 */
function buildAdvice(missing, names) {
  if (missing.length === 0) {
    return [
      'Everything its build needs seems to be here, so it failed for another reason. To see the',
      `compiler's output: npm rebuild ${KEYCHAIN_MODULE} --foreground-scripts`,
    ];
  }
  const packages = names ? missing.map(([, key]) => (key ? names[key] : null)).filter(Boolean) : [];
  return [
    'Building it needs what this machine lacks:',
    ...missing.map(([what]) => `  - ${what}`),
    packages.length > 0 && names
      ? `Install what is missing, then run npm install again:\n  ${names.install} ${packages.join(' ')}`
      : 'Install what is missing, then run npm install again.',
  ];
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function readOsRelease() {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return null;
  }
}

function main() {
  if ((process.env.npm_config_omit ?? '').split(/[\s,]+/).includes('optional')) {
    console.warn(
      `Timebox: the native keychain module (${KEYCHAIN_MODULE}) was left out (--omit=optional): the ` +
        'desktop app cannot keep credentials in the keychain.',
    );
    return;
  }
  try {
    createRequire(import.meta.url)(KEYCHAIN_MODULE);
    return;
  } catch (error) {
    const loadError = error instanceof Error ? error : new Error(String(error));
    console.error(
      `\nTimebox: ${explain({
        platform: process.platform,
        loadError,
        osRelease: process.platform === 'linux' ? readOsRelease() : null,
        has: process.platform === 'win32' ? () => true : commandExists,
        pkgConfigHas: (module) =>
          spawnSync('pkg-config', ['--exists', module], { stdio: 'ignore' }).status === 0,
      })}\n`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
