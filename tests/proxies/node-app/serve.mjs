// Serves one app module of this folder (`node serve.mjs <module> <port>`) with the page that
// tests/proxies.test.mjs drives (public/index.html) and genwire's installed package at /genwire/.
import { readFileSync } from "node:fs";

const [name, port] = process.argv.slice(2);
const { app } = await import(`./${name}.mjs`);
const page = readFileSync(new URL("./public/index.html", import.meta.url), "utf8");
const ready = () => console.log(`${name} listening on http://127.0.0.1:${port}`);

if (name.startsWith("express")) {
  const { default: express } = await import("express");
  app.use("/genwire", express.static("node_modules/genwire"));
  app.get("/", (req, res) => res.type("html").send(page));
  app.listen(Number(port), "127.0.0.1", ready);
} else {
  const { serve } = await import("@hono/node-server");
  const { serveStatic } = await import("@hono/node-server/serve-static");
  app.get("/genwire/*", serveStatic({ root: "./node_modules" }));
  app.get("/", (c) => c.html(page));
  serve({ fetch: app.fetch, port: Number(port), hostname: "127.0.0.1" }, ready);
}
