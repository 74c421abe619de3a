/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Avoids @types/node for one environment variable.
declare const process: { env: Record<string, string | undefined> };

// The Go single binary (go run ./functions/edge serve --addr 127.0.0.1:8080)
// answers the API; `npm run dev` proxies to it so the app stays same-origin.
const backend = process.env.DOTENV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/v1": { target: backend, changeOrigin: false },
      "/healthz": { target: backend },
      "/config.json": { target: backend },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // The polyfill is bundled anyway, but it is not needed by the browsers we
    // target and keeps the output smaller; no inline script is ever emitted.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs (keeps the CSP simple: img-src 'self').
    assetsInlineLimit: 0,
    target: "es2022",
    reportCompressedSize: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
