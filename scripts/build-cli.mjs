// Builds the `timebox` command (`npm run build:cli`), the package's `bin`:
//
//   out/cli/timebox.js     ESM for Node 20, with a shebang, its packages bundled in: one file read at each
//                          call instead of hundreds resolved (zod alone is many), which is most of the
//                          command's start-up. keytar stays external (a native module); code splitting
//                          keeps the keychain in a chunk of its own, loaded only by the commands that
//                          use it, so `timebox --help` never loads keytar.
//   out/cli/package.json   The version `timebox --version` prints.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// Another folder inside the repository may be given (the suites build their own copy there).
const OUT = join(ROOT, process.argv[2] ?? 'out/cli');

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { timebox: join(ROOT, 'cli/main.ts') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['keytar'],
  // Less to parse at each call; the command prints sentences, never stack traces, so nothing is lost.
  minify: true,
  // Bundled CommonJS packages (commander) call require(): give the ES module one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __timeboxRequire } from 'node:module';\nconst require = __timeboxRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(join(OUT, 'timebox.js'), 0o755);

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ type: 'module', version }, null, 2)}\n`);

console.log(`built ${join(OUT, 'timebox.js')}`);
