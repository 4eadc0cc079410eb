import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// `npm run build` also runs from vitest's global setup, where NODE_ENV=test would make Vite bundle
// React's development build: a build of the UI is always a production build.
if (process.argv.includes("build")) process.env.NODE_ENV = "production";

/** `vite build --config web/vite.config.ts` writes dist/web, which the studio serves. */
export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite --config web/vite.config.ts` against a studio on :8080
    proxy: { "/api": "http://127.0.0.1:8080", "/v1": "http://127.0.0.1:8080" },
  },
});
