import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/check-keychain-module.mjs');

interface Facts {
  readonly platform: string;
  readonly loadError: { readonly code?: string; readonly message: string };
  readonly osRelease: string | null;
  readonly has: (command: string) => boolean;
  readonly pkgConfigHas: (module: string) => boolean;
}
const { explain, KEYCHAIN_MODULE } = (await import(pathToFileURL(SCRIPT).href)) as {
  explain: (facts: Facts) => string;
  KEYCHAIN_MODULE: string;
};

const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  optionalDependencies: Record<string, string>;
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

const notInstalled = {
  code: 'MODULE_NOT_FOUND',
  message: `Cannot find module '${KEYCHAIN_MODULE}'\nRequire stack: …`,
};
const everything = () => true;

describe('npm install on a machine that cannot build the keychain module', () => {
  const folder = mkdtempSync(join(tmpdir(), 'timebox-install-'));
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('is told what to install, not given a node-gyp trace', { timeout: 240_000 }, () => {
    // A project with our keychain module and our check, as package.json declares them.
    mkdirSync(join(folder, 'scripts'));
    copyFileSync(SCRIPT, join(folder, 'scripts/check-keychain-module.mjs'));
    const version = rootPackage.optionalDependencies[KEYCHAIN_MODULE];
    writeFileSync(
      join(folder, 'package.json'),
      JSON.stringify({
        name: 'keychain-check',
        private: true,
        optionalDependencies: { [KEYCHAIN_MODULE]: version },
        scripts: { postinstall: rootPackage.scripts.postinstall },
      }),
    );
    // No prebuilt binary (as offline, or behind a proxy), and no libsecret for pkg-config to find.
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: folder,
      env: {
        ...process.env,
        npm_config_build_from_source: 'true',
        PKG_CONFIG_LIBDIR: join(folder, 'no-pkg-config'),
        PKG_CONFIG_PATH: '',
      },
      encoding: 'utf8',
      timeout: 200_000,
    });
    const output = `${install.stdout}${install.stderr}`;
    expect(install.status, output).not.toBe(0);
    expect(output).toContain(`the native keychain module (${KEYCHAIN_MODULE}) is not installed`);
    expect(output).toContain("libsecret's development files (pkg-config cannot find libsecret-1)");
    expect(output).not.toContain('gyp ERR!');
  });
});

describe('the keychain module check', () => {
  it('is what npm runs after installing, and keytar is optional so that its failure reaches it', () => {
    expect(rootPackage.scripts.postinstall).toBe('node scripts/check-keychain-module.mjs');
    expect(rootPackage.optionalDependencies).toHaveProperty(KEYCHAIN_MODULE);
    expect(rootPackage.dependencies).not.toHaveProperty(KEYCHAIN_MODULE);
  });

  it('passes, silently, where the module loads', () => {
    const check = spawnSync(process.execPath, [SCRIPT], { cwd: ROOT, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(`${check.stdout}${check.stderr}`).toBe('');
  });

  it('passes with a note when npm was told to leave optional dependencies out', () => {
    const bare = mkdtempSync(join(tmpdir(), 'timebox-install-'));
    try {
      copyFileSync(SCRIPT, join(bare, 'check.mjs'));
      const check = spawnSync(process.execPath, [join(bare, 'check.mjs')], {
        env: { ...process.env, npm_config_omit: 'dev optional' },
        encoding: 'utf8',
      });
      expect(check.status).toBe(0);
      expect(check.stderr).toContain('was left out (--omit=optional)');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it.each([
    ['ID=debian', 'sudo apt-get install libsecret-1-dev pkg-config python3 build-essential'],
    ['ID=ubuntu\nID_LIKE=debian', 'sudo apt-get install libsecret-1-dev pkg-config python3 build-essential'],
    [
      'ID="rocky"\nID_LIKE="rhel centos fedora"',
      'sudo dnf install libsecret-devel pkgconf-pkg-config python3 gcc-c++ make',
    ],
    ['ID=arch', 'sudo pacman -S --needed libsecret pkgconf python base-devel'],
    [
      'ID=opensuse-tumbleweed\nID_LIKE="opensuse suse"',
      'sudo zypper install libsecret-devel pkg-config python3 gcc-c++ make',
    ],
    ['ID=alpine', 'sudo apk add libsecret-dev pkgconf python3 build-base'],
  ])('on Linux (%j) names the packages that are missing, in one command', (osRelease, command) => {
    const message = explain({
      platform: 'linux',
      loadError: notInstalled,
      osRelease,
      has: () => false,
      pkgConfigHas: () => false,
    });
    expect(message).toContain(`\n  ${command}`);
  });

  it('names only what is missing, and where nothing is, how to see why the build failed', () => {
    const onlyLibsecret = explain({
      platform: 'linux',
      loadError: notInstalled,
      osRelease: 'ID=debian',
      has: everything,
      pkgConfigHas: () => false,
    });
    expect(onlyLibsecret).toContain('\n  sudo apt-get install libsecret-1-dev\n'.trimEnd());
    expect(onlyLibsecret).not.toContain('build-essential');
    const nothingMissing = explain({
      platform: 'linux',
      loadError: notInstalled,
      osRelease: 'ID=debian',
      has: everything,
      pkgConfigHas: everything,
    });
    expect(nothingMissing).toContain(`npm rebuild ${KEYCHAIN_MODULE} --foreground-scripts`);
    const unknownDistribution = explain({
      platform: 'linux',
      loadError: notInstalled,
      osRelease: 'ID=plan9',
      has: everything,
      pkgConfigHas: () => false,
    });
    expect(unknownDistribution).toContain("libsecret's development files");
    expect(unknownDistribution).toContain('Install what is missing, then run npm install again.');
  });

  it('on macOS and Windows names their toolchains', () => {
    const mac = explain({
      platform: 'darwin',
      loadError: notInstalled,
      osRelease: null,
      has: () => false,
      pkgConfigHas: () => false,
    });
    expect(mac).toContain('xcode-select --install');
    expect(mac).toContain('Python 3');
    const windows = explain({
      platform: 'win32',
      loadError: notInstalled,
      osRelease: null,
      has: everything,
      pkgConfigHas: everything,
    });
    expect(windows).toContain('"Desktop development with C++"');
  });

  it('tells a module that is there but does not load from one that is missing', () => {
    const message = explain({
      platform: 'linux',
      loadError: { code: 'ERR_DLOPEN_FAILED', message: 'libsecret-1.so.0: cannot open shared object file' },
      osRelease: 'ID=debian',
      has: everything,
      pkgConfigHas: everything,
    });
    expect(message).toContain(
      'is installed but does not load:\n  libsecret-1.so.0: cannot open shared object file',
    );
    expect(message).toContain('sudo apt-get install libsecret-1-0');
  });
});
