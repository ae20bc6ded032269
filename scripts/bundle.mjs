// Bundles the React pages with esbuild: the demo (www/src → www/dist/app.js) and the hooks' test
// fixture (tests/react → www/dist/hooks-fixture.js). `genwire` and `genwire/react` resolve to this
// repo's js/ as an installed package would; the wasm is copied beside the bundles, where the glue's
// `new URL("genwire_bg.wasm", import.meta.url)` looks for it.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const self = {
  name: "genwire-self",
  setup(b) {
    b.onResolve({ filter: /^genwire(\/react)?$/ }, (a) => ({ path: `${root}js/${a.path === "genwire" ? "index" : "react"}.js` }));
  },
};
rmSync(`${root}www/dist`, { recursive: true, force: true }); // no stale chunks
mkdirSync(`${root}www/dist`, { recursive: true });
copyFileSync(`${root}pkg/genwire_bg.wasm`, `${root}www/dist/genwire_bg.wasm`);
// The lean core is found at `../pkg/` from js/index.js; from www/dist that is the server's /pkg.
copyFileSync(`${root}pkg/genwire_validate_bg.wasm`, `${root}www/dist/genwire_validate_bg.wasm`);
await build({
  entryPoints: { app: `${root}www/src/main.jsx`, "hooks-fixture": `${root}tests/react/fixture.jsx` },
  outdir: `${root}www/dist`,
  bundle: true,
  format: "esm",
  splitting: true, // client.diagnose() stays a chunk of its own, loaded on first use
  minify: true,
  sourcemap: true,
  target: "es2022",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  plugins: [self],
  logLevel: "warning",
});
