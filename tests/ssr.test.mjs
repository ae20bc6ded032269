// Server rendering: importing genwire and genwire/react in Node (no window, no wasm) and rendering a
// page that uses every hook succeeds, shows the idle state, and compiles no wasm.
import { test } from "node:test";
import assert from "node:assert/strict";

test("a server render of a page using the hooks renders the idle state and touches no wasm", async () => {
  const touched = [];
  for (const name of ["compile", "compileStreaming", "instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = (...a) => { touched.push(name); return original.apply(WebAssembly, a); };
  }
  const wasmModule = WebAssembly.Module;
  WebAssembly.Module = function (...a) { touched.push("Module"); return new wasmModule(...a); };
  assert.equal(typeof window, "undefined");

  const { createElement: h } = await import("react");
  const { renderToString } = await import("react-dom/server");
  const { GenwireProvider, useGeneration, useRealtime, useStream, useUpload, useValidation, useClientStats } = await import("../js/react.js");

  function Page() {
    const gen = useGeneration("fal-ai/flux/dev");
    const rt = useRealtime("fal-ai/lcm-sd15-i2i", { connectionKey: "page" });
    const up = useUpload();
    const val = useValidation("fal-ai/flux/dev", { prompt: "a cat" });
    const stats = useClientStats();
    const st = useStream("fal-ai/any-llm");
    return h("main", null,
      h("p", { id: "stream" }, `stream: ${st.status}, partial: ${st.partial === undefined}`),
      h("p", { id: "gen" }, `generation: ${gen.status}, pending: ${gen.isPending}, data: ${gen.data === undefined}`),
      h("p", { id: "rt" }, `realtime: ${rt.status}`),
      h("p", { id: "up" }, `upload: ${up.status} ${up.progress}`),
      h("p", { id: "val" }, `valid: ${val.valid}, issues: ${val.issues.length}`),
      h("p", { id: "stats" }, `stats: ${stats === null ? "none" : stats.calls}`),
    );
  }
  const html = renderToString(h(GenwireProvider, { options: { proxyUrl: "/api/fal/proxy" } }, h(Page)));
  assert.match(html, /generation: idle, pending: false, data: true/);
  assert.match(html, /realtime: idle/);
  assert.match(html, /upload: idle 0/);
  assert.match(html, /valid: null, issues: 0/);
  assert.match(html, /stats: none/);
  assert.match(html, /stream: idle, partial: true/);
  // A render without a provider uses the default client, and is as quiet.
  assert.match(renderToString(h(Page)), /generation: idle/);
  // The same page on a `genwire/queue` client: importing it and rendering are as quiet.
  const queue = await import("../js/queue.js");
  const queueHtml = renderToString(h(GenwireProvider, { client: queue.createClient({ proxyUrl: "/api/fal/proxy" }) }, h(Page)));
  assert.match(queueHtml, /generation: idle, pending: false, data: true/);
  assert.match(queueHtml, /realtime: idle/);
  assert.deepEqual(touched, [], "no wasm compiled or instantiated during the server render");
});
