import { defineConfig } from 'vite';

// The console is served by harness-server at /ui/: every asset path is relative, so the same
// build works under any prefix. Nothing is loaded from another origin; preact is bundled.
export default defineConfig({
  base: './',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `pnpm dev` with a server on 8080: the page's API calls go through to it.
    proxy: {
      '/v1': process.env.HARNESS_URL ?? 'http://127.0.0.1:8080',
      '/ready': process.env.HARNESS_URL ?? 'http://127.0.0.1:8080',
      '/live': process.env.HARNESS_URL ?? 'http://127.0.0.1:8080',
      '/metrics': process.env.HARNESS_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
