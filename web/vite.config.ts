import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/** The gateway `npm start` serves; `npx vite` proxies the API to it. */
const API = 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Routes and heavy pieces (uPlot, Supabase) are split out; the initial chunk is checked in the build output.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/v1': { target: API, changeOrigin: false },
      '/health': { target: API },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    testTimeout: 15_000,
  },
});
