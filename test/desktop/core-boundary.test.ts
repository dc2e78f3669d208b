import { fileURLToPath } from 'node:url';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * main/core runs in plain Node, so the lint configuration forbids Electron (and the packages bound to it)
 * there. This checks the rule as the project's own configuration sets it, for core files and others.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function restrictedImportsFor(file: string): Promise<Linter.RuleEntry | undefined> {
  const config = (await new ESLint({ cwd: ROOT }).calculateConfigForFile(file)) as Linter.Config;
  return config.rules?.['no-restricted-imports'];
}

async function problems(file: string, code: string): Promise<string[]> {
  const rule = await restrictedImportsFor(file);
  if (rule === undefined) return [];
  return new Linter()
    .verify(code, [
      { languageOptions: { parser: tseslint.parser }, rules: { 'no-restricted-imports': rule } },
    ])
    .map((message) => message.message);
}

describe('the lint boundary around main/core', () => {
  it.each([
    ["import { app } from 'electron';", /main\/core never imports Electron/],
    ["import type { WebContents } from 'electron';", /main\/core never imports Electron/],
    ["import { ipcMain } from 'electron/main';", /main\/core never imports Electron/],
    ["import Store from 'electron-store';", /electron-store lives in main\/electron/],
    ["import keytar from 'keytar';", /keytar lives in keychain\//],
    ["export { shell } from 'electron';", /main\/core never imports Electron/],
  ])('refuses %s in main/core', async (code, message) => {
    const found = await problems('main/core/timebox.ts', code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ["import { z } from 'zod';"],
    ["import { createParser } from 'eventsource-parser';"],
    ["import type { Keychain } from './keychain.js';"],
  ])('lets %s through in main/core', async (code) => {
    expect(await problems('main/core/timebox.ts', code)).toEqual([]);
  });

  it.each(['main/electron/main.ts', 'main/adapters/secret-service-unlock.ts'])(
    'leaves the adapters (%s) free to import Electron and keytar',
    async (file) => {
      expect(await problems(file, "import { app } from 'electron';\nimport keytar from 'keytar';")).toEqual(
        [],
      );
      // Like every client of the service, they still reach it only through api/ or server/index.ts.
      expect(await problems(file, "import { openDatabase } from '../../server/db/database.js';")).toEqual([
        expect.stringMatching(/never its internals/),
      ]);
    },
  );
});

describe('the lint boundaries of the shared keychain and the CLI', () => {
  it.each([
    "import { TimeboxCore } from '../main/core/timebox.js';",
    "import { program } from '../cli/program.js';",
    "import { openDatabase } from '../server/db/database.js';",
  ])('keeps keychain/ free of its users: refuses %s', async (code) => {
    expect(await problems('keychain/keytar-keychain.ts', code)).toEqual([
      expect.stringMatching(/keychain\/ is shared by the desktop app and the CLI/),
    ]);
  });

  it('lets keychain/ use keytar and api/', async () => {
    const code = "import keytar from 'keytar';\nimport { UserError } from '../api/errors.js';";
    expect(await problems('keychain/keytar-keychain.ts', code)).toEqual([]);
  });

  it.each([
    ["import { psqlEnvironment } from '../main/core/psql.js';", /cli\/ never imports the desktop app/],
    ["import { openDatabase } from '../server/db/database.js';", /never its internals/],
  ])('refuses %s in cli/', async (code, message) => {
    const found = await problems('cli/main.ts', code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('lets cli/ use api/ and the shared keychain', async () => {
    const code =
      "import { GrantClient } from '../api/grant-client.js';\nimport { keytarKeychain } from '../keychain/keytar-keychain.js';";
    expect(await problems('cli/main.ts', code)).toEqual([]);
  });
});
