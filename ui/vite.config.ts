import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The dashboard builds into the package (dist/dashboard), served by the API at `/`: no CDN, no
// network at run time. `npm run build` runs this; `npx vite --config ui/vite.config.ts` serves it
// for development with /v1 proxied to a local `taskexec serve`.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [preact()],
  build: {
    outDir: "../dist/dashboard",
    emptyOutDir: true,
    target: "es2022",
    // None in the package: a map would point at ui/src and at preact in node_modules, neither of
    // which ships. The development server (`npx vite --config ui/vite.config.ts`) has maps.
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  server: { proxy: { "/v1": "http://127.0.0.1:8080" } },
});
