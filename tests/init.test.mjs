// Loading the wasm: nothing at import, once on first use, and `init(urlOrBytes)` for setups whose
// bundler can't resolve the default URL: a URL string, a URL, a Response, bytes, a compiled Module.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, startServer } from "./support/env.mjs";

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** A blank page of the server's origin, recording every .wasm request. */
async function blank() {
  const page = await browser.newPage();
  const wasm = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith(".wasm")) wasm.push(u.pathname + u.search);
  });
  await page.route(`${server.url}/__blank`, (r) => r.fulfill({ contentType: "text/html", body: "<!doctype html><title>init</title>" }));
  await page.goto(`${server.url}/__blank`);
  return { page, wasm };
}

const SCHEMA = { type: "object", properties: { n: { type: "integer", maximum: 3 } } };

test("importing loads no wasm; the first call loads it once, from next to the glue", async () => {
  const { page, wasm } = await blank();
  await page.evaluate(async () => { window.g = await import("/js/index.js"); window.c = window.g.createClient(); });
  assert.deepEqual(wasm, [], "import and createClient fetch nothing");
  const issues = await page.evaluate(async (schema) => {
    const c = window.g.createClient({ schemas: { "a/b": schema } });
    await Promise.all([c.validate("a/b", { n: 9 }), c.validate("a/b", { n: 1 })]);
    return c.validate("a/b", { n: 9 });
  }, SCHEMA);
  assert.deepEqual(issues.map((i) => i.type), ["less_than_equal"]);
  assert.deepEqual(wasm, ["/pkg/genwire_bg.wasm"], "fetched once");
  await page.close();
});

for (const [how, make] of [
  ["a URL string", "'/pkg/genwire_bg.wasm?how=string'"],
  ["a URL object", "new URL('/pkg/genwire_bg.wasm?how=url', location.href)"],
  ["a Response", "await fetch('/pkg/genwire_bg.wasm?how=response')"],
  ["bytes", "await (await fetch('/pkg/genwire_bg.wasm?how=bytes')).arrayBuffer()"],
  ["a compiled WebAssembly.Module", "await WebAssembly.compileStreaming(fetch('/pkg/genwire_bg.wasm?how=module'))"],
]) {
  test(`init() with ${how}`, async () => {
    const { page, wasm } = await blank();
    const out = await page.evaluate(async ({ make, schema }) => {
      const g = await import("/js/index.js");
      const input = await new Function(`return (async () => ${make})()`)();
      await g.init(input);
      await g.init(); // already loaded: a no-op
      return g.validate(schema, { n: 9 }).map((i) => i.type);
    }, { make, schema: SCHEMA });
    assert.deepEqual(out, ["less_than_equal"]);
    assert.equal(wasm.length, 1, `one wasm request: ${wasm}`);
    assert.match(wasm[0], /\?how=/, "the caller's, not the default URL");
    await page.close();
  });
}

test("a failed init rejects with the cause, and a later init can succeed", async () => {
  const { page } = await blank();
  const out = await page.evaluate(async () => {
    const g = await import("/js/index.js");
    const first = await g.init("/nope.wasm").then(() => "loaded", (e) => String(e));
    await g.init("/pkg/genwire_bg.wasm");
    return { first, ok: g.validate({ type: "string" }, 1).length };
  });
  assert.notEqual(out.first, "loaded");
  assert.equal(out.ok, 1);
  await page.close();
});
