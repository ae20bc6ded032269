// A page for the hooks' browser tests (tests/react.test.mjs), bundled by scripts/bundle.mjs to
// www/dist/hooks-fixture.js. Each scenario mounts one component; every commit of a hook's state is
// logged to `window.hookLog`, and the live hook objects are on `window.hooks.current`.
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "genwire";
import { GenwireProvider, useClientStats, useGeneration, useRealtime, useStream, useUpload, useValidation } from "genwire/react";

const log = [];
const current = {};
const slim = (e) => e && { kind: e.kind, category: e.category, message: e.message, issues: e.issues };

function useLogged(name, hook, fields) {
  current[name] = hook;
  useEffect(() => { log.push({ hook: name, ...fields }); });
  return hook;
}

function Generation({ endpoint, options }) {
  const g = useGeneration(endpoint, options);
  useLogged("gen", g, { status: g.status, data: g.data, error: slim(g.error), queuePosition: g.queuePosition, requestId: g.requestId, logs: g.logs.length });
  return <p data-hook="gen" data-status={g.status}>{g.status}</p>;
}

/** A partial as logged: an LLM's text, or a chunk's length. */
const show = (p) => (p instanceof Uint8Array ? p.length : p?.output);

function Stream({ endpoint, options }) {
  const st = useStream(endpoint, options);
  useLogged("stream", st, { status: st.status, partial: show(st.partial), final: st.partial?.partial, data: show(st.data), error: slim(st.error), requestId: st.requestId });
  return <p data-hook="stream" data-status={st.status}>{st.status}</p>;
}

function Realtime({ endpoint, options }) {
  const r = useRealtime(endpoint, options);
  useLogged("rt", r, { status: r.status, lastResult: r.lastResult, error: slim(r.error) });
  return <p data-hook="rt" data-status={r.status}>{r.status}</p>;
}

function Upload({ options }) {
  const u = useUpload(options);
  useLogged("up", u, { status: u.status, progress: u.progress, url: u.url, error: slim(u.error) });
  return <p data-hook="up" data-status={u.status}>{u.status}</p>;
}

function Validation({ endpoint, input: initial, debounceMs, options }) {
  const [input, setInput] = useState(initial);
  current.setInput = setInput;
  const v = useValidation(endpoint, input, options ?? { debounceMs });
  useLogged("val", v, { valid: v.valid, pending: v.pending, fields: v.issues.map((i) => `${i.field}:${i.type}`), error: slim(v.error) });
  return <p data-hook="val">{String(v.valid)}</p>;
}

function Stats({ intervalMs = 100 }) {
  const s = useClientStats(intervalMs);
  useLogged("stats", s, { calls: s?.calls ?? null });
  return <p data-hook="stats">{s?.calls ?? "-"}</p>;
}

const scenarios = { Generation, Stream, Realtime, Upload, Validation, Stats };
let root = null;
let last = null; // the mounted scenario, for rerender()

/** Props as the tests pass them: an option whose value is the string "__fn__" is a function (one a test can't send). */
const withFunctions = (props) => {
  const options = props?.options;
  if (options === null || typeof options !== "object") return props;
  return { ...props, options: Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v === "__fn__" ? () => {} : v])) };
};

function tree({ scenario, props: given, strict, twice, client }) {
  const props = withFunctions(given);
  const Scenario = scenarios[scenario];
  let t = <GenwireProvider client={client}><Scenario {...props} />{twice && <Scenario {...props} />}</GenwireProvider>;
  if (strict) t = <StrictMode>{t}</StrictMode>;
  return t;
}

window.hooks = {
  log,
  current,
  /** Mounts `scenario` (under StrictMode when `strict`) with its own client; returns nothing. */
  mount(scenario, props = {}, { strict = false, clientOptions = {}, twice = false } = {}) {
    const real = createClient({ realtimeUrl: `ws://${location.host}/sim/realtime`, ...clientOptions });
    window.hooks.validateCalls = 0;
    // The real client, counting validate() calls (the provider takes any object of its shape).
    const client = { ...real, validate: (...a) => { window.hooks.validateCalls++; return real.validate(...a); } };
    current.client = client;
    last = { scenario, props, strict, twice, client };
    root?.unmount();
    const el = document.getElementById("hooks") ?? document.body.appendChild(Object.assign(document.createElement("div"), { id: "hooks" }));
    // What a render throws (past any boundary) is logged as the hook "thrown".
    root = createRoot(el, { onUncaughtError: (e) => log.push({ hook: "thrown", error: slim(e), name: e?.name }) });
    root.render(tree(last));
  },
  /** Renders the mounted scenario again with new props: the same components, hooks and client. */
  rerender(props) {
    last = { ...last, props };
    root.render(tree(last));
  },
  unmount() {
    root?.unmount();
    root = null;
  },
};
document.body.dataset.hooks = "ready";
