/**
 * Builds the station UI into renderer/dist: `npm run build:renderer`. The headless server and the
 * Electron shell both serve that folder, so the output must run under a CSP with no inline
 * script or style, and from any base path (relative asset URLs).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  // No .env files: nothing about this station belongs in the UI bundle.
  envDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Inlined assets would become data: URLs; keep every asset a file served under the CSP.
    assetsInlineLimit: 0,
    // The shell runs a current Chromium; no legacy transforms.
    target: 'chrome120',
    sourcemap: false,
  },
});
