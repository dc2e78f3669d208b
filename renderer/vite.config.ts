import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The renderer bundle: one page for both windows (index.html?window=popover|main), served by main from
 * out/renderer under app://timebox/ (and over plain HTTP in the browser tests), hence relative asset
 * paths that work under either. The windows' CSP allows only 'self' scripts and
 * styles, so nothing may be inlined: the module preload polyfill (an inline script) stays off.
 */
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../out/renderer', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'chrome130',
  },
});
