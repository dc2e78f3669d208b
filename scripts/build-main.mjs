// Builds the Electron main process and the preload (`npm run build:main`); the renderer is Vite's.
//
//   out/main/main.js       ESM for Node 22 (Electron 45). Packages stay external and load from
//                          node_modules at run time: PGlite reads its wasm beside its own files, keytar is
//                          a native module, and neither survives being bundled.
//   out/main/policy.yaml   The demo organisation. server/demo/demo.ts finds it next to the running module.
//   out/package.json       server/app.ts reads the version from "../package.json" beside the running module.
//   out/preload/index.cjs  The sandboxed preload: CommonJS, one file, nothing required but 'electron'.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'out');

rmSync(join(OUT, 'main'), { recursive: true, force: true });
rmSync(join(OUT, 'preload'), { recursive: true, force: true });

await build({
  entryPoints: [join(ROOT, 'main/electron/main.ts')],
  outfile: join(OUT, 'main/main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  logLevel: 'warning',
});

await build({
  entryPoints: [join(ROOT, 'preload/index.ts')],
  outfile: join(OUT, 'preload/index.cjs'),
  bundle: true,
  // A sandboxed preload runs in a renderer with a small require(): 'electron' and a few Node built-ins.
  platform: 'browser',
  format: 'cjs',
  target: 'chrome140',
  external: ['electron'],
  logLevel: 'warning',
});

copyFileSync(join(ROOT, 'server/demo/policy.yaml'), join(OUT, 'main/policy.yaml'));

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ type: 'module', version }, null, 2)}\n`);

console.log('built out/main/main.js, out/main/policy.yaml, out/package.json, out/preload/index.cjs');
