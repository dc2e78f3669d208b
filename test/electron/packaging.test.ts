import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFile, listPackage } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { buildApp, lockBuildOutput, ROOT, run } from './build.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

interface BuilderConfig {
  readonly appId: string;
  readonly productName: string;
  readonly asar: boolean;
  readonly asarUnpack: readonly string[];
  readonly npmRebuild: boolean;
  readonly files: readonly string[];
  readonly directories: Record<string, string>;
  readonly protocols: readonly { readonly name: string; readonly schemes: readonly string[] }[];
  readonly electronFuses: Record<string, boolean> | null;
  readonly mac: Record<string, unknown>;
  readonly win: Record<string, unknown>;
  readonly linux: Record<string, unknown>;
}

const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('electron-builder.yml', () => {
  it('names the app and registers the timebox:// protocol', () => {
    expect(config.appId).toBe('dev.timebox.app');
    expect(config.productName).toBe('Timebox');
    expect(config.directories.output).toBe('dist/packages');
    expect(config.protocols).toEqual([{ name: 'Timebox link', schemes: ['timebox'] }]);
  });

  it('packs the app into an asar, keytar’s native module outside it, nothing rebuilt', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(['**/node_modules/keytar/**/*.node']);
    expect(config.npmRebuild).toBe(false);
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'out/**/*', 'resources/**/*']));
  });

  it('flips the fuses that close the back doors', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('builds a hardened, notarisable dmg, an nsis installer, an AppImage and a deb', () => {
    expect(config.mac).toMatchObject({
      target: 'dmg',
      hardenedRuntime: true,
      notarize: true,
      entitlements: 'build/entitlements.mac.plist',
    });
    expect(existsSync(join(ROOT, 'build/entitlements.mac.plist'))).toBe(true);
    expect(config.win).toMatchObject({ target: 'nsis' });
    expect(config.linux).toMatchObject({ target: ['AppImage', 'deb'], category: 'Utility' });
  });
});

describe('a Linux package built with a stand-in Electron', () => {
  const work = mkdtempSync(join(tmpdir(), 'timebox-package-'));
  const output = join(work, 'packages');
  let release: () => void = () => undefined;
  let resources: string;
  let files: string[];

  beforeAll(async () => {
    release = await lockBuildOutput();
    buildApp();

    // The Electron binary cannot be downloaded here; a folder holding an executable named `electron`
    // stands in for the unpacked distribution. electron-builder copies it and renames the executable.
    const electronDist = join(work, 'electron-dist');
    mkdirSync(electronDist);
    writeFileSync(
      join(electronDist, 'electron'),
      '#!/bin/sh\necho "stand-in for the Electron binary" >&2\nexit 1\n',
    );
    chmodSync(join(electronDist, 'electron'), 0o755);

    const overrides = {
      ...config,
      electronDist,
      // Fuses are flipped by finding a sentinel string inside the real Electron binary; the stand-in has
      // none. The fuse settings themselves are checked in the YAML above.
      electronFuses: null,
      // Out of the repository, so a test run never touches dist/ (or another run's output).
      directories: { ...config.directories, output },
    };
    const configFile = join(work, 'electron-builder.json');
    writeFileSync(configFile, JSON.stringify(overrides));
    run(
      join(ROOT, 'node_modules/.bin/electron-builder'),
      ['--config', configFile, '--projectDir', ROOT, '--linux', 'dir'],
      {
        // No publishing, no update checks: nothing here may reach the network.
        CI: 'true',
      },
    );
    resources = join(output, 'linux-unpacked', 'resources');
    files = listPackage(join(resources, 'app.asar'), { isPack: false });
  }, 300_000);

  afterAll(() => {
    release();
    rmSync(work, { recursive: true, force: true });
  });

  it('renames the executable after the app', () => {
    expect(existsSync(join(output, 'linux-unpacked', 'timebox'))).toBe(true);
  });

  it('holds the built app, its policy, its preload, its renderer and its icons', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        '/package.json',
        '/out/package.json',
        '/out/main/main.js',
        '/out/main/policy.yaml',
        '/out/preload/index.cjs',
        '/out/renderer/index.html',
        '/resources/icon.png',
        '/resources/tray/idleTemplate@2x.png',
        '/resources/tray/attention.png',
      ]),
    );
    const manifest = JSON.parse(
      extractFile(join(resources, 'app.asar'), 'package.json').toString('utf8'),
    ) as {
      main: string;
    };
    expect(manifest.main).toBe('out/main/main.js');
  });

  it('keeps keytar’s native module outside the archive, where the OS can load it', () => {
    expect(files).toContain('/node_modules/keytar/build/Release/keytar.node');
    expect(
      existsSync(join(resources, 'app.asar.unpacked/node_modules/keytar/build/Release/keytar.node')),
    ).toBe(true);
  });

  it('holds no sources, tests, scratch files, secrets or development tools', () => {
    expect(files.filter((file) => !/^\/(package\.json|out|resources|node_modules)(\/|$)/.test(file))).toEqual(
      [],
    );
    expect(files.filter((file) => /\.(ts|tsx|map)$/.test(file))).toEqual([]);
    expect(files.filter((file) => /(^|\/)(\.scratch|\.timebox|\.git)(\/|$)/.test(file))).toEqual([]);
    expect(files.filter((file) => /\.(env|pem|key|p12|pfx)$/.test(file))).toEqual([]);
    for (const tool of ['electron', 'electron-builder', 'vitest', 'vite', 'playwright-core', 'typescript'])
      expect(files).not.toContain(`/node_modules/${tool}`);
  });

  it('ships a preload that requires nothing but electron and carries no zod', () => {
    const preload = extractFile(join(resources, 'app.asar'), 'out/preload/index.cjs').toString('utf8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map(([, module]) => module)).toEqual(['electron']);
    expect(preload).not.toMatch(/zod/i);
  });
});
