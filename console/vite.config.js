// Vite 7 builds src/main/web into FORKLINE_CONSOLE_OUT (build.sh passes Maven's target/classes path).
// JSX is compiled by esbuild for Preact (no Babel); no plugins.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig({
  root: resolve(import.meta.dirname, 'src/main/web'),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.FORKLINE_CONSOLE_OUT ?? resolve(import.meta.dirname, 'target/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
});
