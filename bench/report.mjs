// bench/RESULTS.md and bench/chart.svg from the results: every figure with both clients, who is
// ahead and by what ratio, and why where genwire is behind.

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const signedMib = (n) => `${n >= 0 ? "+" : "−"}${mib(Math.abs(n))}`;
const ms = (n) => (n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`);
const us = (n) => `${n.toFixed(1)} µs`;

/** Growth below this is within GC noise: no ratio is drawn from it. */
const NOISE_BYTES = 256 * 1024;

/**
 * Every compared figure: both clients' values, and `factor` = how many times better genwire is
 * (> 1: ahead, < 1: behind; lower-is-better figures divide theirs by genwire's).
 */
export function figures(r) {
  const f = [];
  const add = (group, label, g, t, better, fmt, why) => {
    const factor = g > 0 && t > 0 ? (better === "lower" ? t / g : g / t) : null;
    f.push({ group, label, genwire: fmt(g), theirs: fmt(t), g, t, factor, why });
  };
  const size = r.size;
  const whySize = "genwire ships its engine as wasm, which @fal-ai/client has no counterpart for: the queue, subscribe and output-stream machines with SSE, the option rules with typed errors, the hostile-input checks, the error decoder and its tables, retry policy, breakers and stats, uploads (multipart, progress), the schema validator, realtime (connection machine, reconnection, tokens, msgpack) and ~20 KB of Rust and wasm-bindgen runtime (docs/size.md, by area). A page downloads the core its entry and options need (the per-page rows): `genwire/queue` has no realtime, a client with `validation: false` gets a core without the validator. It is fetched once per page and compiled while the page loads; the other rows are what it buys.";
  add("download", "bytes downloaded, raw", size.genwire.total.raw, size.theirs.total.raw, "lower", kib, whySize);
  add("download", "bytes downloaded, gzip -9", size.genwire.total.gzip, size.theirs.total.gzip, "lower", kib, whySize);
  add("download", "bytes downloaded, brotli 11", size.genwire.total.brotli, size.theirs.total.brotli, "lower", kib, whySize);
  // First use, by kind of page (bench/sizes.mjs PAGES): what a page fetches for what it does.
  const PAGE_LABELS = {
    subscribe: "first-use download, a subscribe page (`genwire/queue`, `validation: false`), gzip -9",
    validation: "first-use download, a subscribe page with validation (`genwire/queue`), gzip -9",
    mainSubscribe: "first-use download, a subscribe page from `genwire` (`validation: false`), gzip -9",
    realtime: "first-use download, a realtime page (`genwire`, `validation: false`), gzip -9",
    everything: "first-use download, every feature and the hooks (the whole library), gzip -9",
  };
  for (const [kind, label] of Object.entries(PAGE_LABELS)) {
    const page = size.genwire.pages?.[kind];
    if (page) add("download", label, page.gzip, size.theirs.total.gzip, "lower", kib, whySize);
  }

  const L = r.latency.modes;
  const whyLat = "with jobs of a realistic length both clients' streaming modes deliver the result about one round trip after the job completes; polling waits for the next poll (every 500 ms in both), about half an interval on average.";
  add("latency", "job completed → result in the app, p50, each client's default (genwire streaming, theirs polling)", L.genwireStreaming.p50, L.theirsPolling.p50, "lower", ms, whyLat);
  add("latency", "job completed → result in the app, p95, each client's default", L.genwireStreaming.p95, L.theirsPolling.p95, "lower", ms, whyLat);
  add("latency", "job completed → result in the app, p50, both streaming", L.genwireStreaming.p50, L.theirsStreaming.p50, "lower", ms, "both read the same status stream and fetch the result after COMPLETED; genwire passes each event through its wasm decoder, retry policy and events. A few ms either way is this loaded machine's noise (see the table's p95 and max).");
  add("latency", "job completed → result in the app, p50, both polling", L.genwirePolling.p50, L.theirsPolling.p50, "lower", ms, whyLat);
  add("latency", "job started → first IN_PROGRESS in the app, p50, each client's default", L.genwireStreaming.firstUpdateLag.p50, L.theirsPolling.firstUpdateLag.p50, "lower", ms, whyLat);
  add("latency", "requests per job, each client's default", L.genwireStreaming.requestsPerJob, L.theirsPolling.requestsPerJob, "lower", (n) => n.toFixed(1), whyLat);

  const rt = r.realtime;
  const whyRt = "genwire's driver runs in microtasks it queues itself (counted by ScriptDuration), @fal-ai/client's work after each message in promise reactions (not counted: see the check in the Realtime section); by the CPU profile's samples, which see both, genwire is the cheaper.";
  add("realtime", "script time per 64 KiB input (CPU-profile samples)", rt.genwire.sampledScriptMsPerInput, rt.theirs.sampledScriptMsPerInput, "lower", ms, whyRt);
  add("realtime", "main-thread CPU per input (all tasks)", rt.genwire.cpuMsPerInput, rt.theirs.cpuMsPerInput, "lower", ms, whyRt);
  add("realtime", "script time per input by CDP ScriptDuration (misses promise reactions)", rt.genwire.scriptMsPerInput, rt.theirs.scriptMsPerInput, "lower", ms, whyRt);
  add("realtime", "inputs per second (64 KiB, throttle 0)", rt.genwire.inputsPerSecond, rt.theirs.inputsPerSecond, "higher", (n) => `${n.toFixed(0)}/s`, whyRt);

  const sm = r.subscribeMemory, rm = r.realtimeMemory;
  const whyMem = "genwire's figure includes its wasm linear memory, which @fal-ai/client has none of: 5 pages at start (a 256 KiB stack and static data) plus the heap's high-water mark, in 64 KiB pages the browser never takes back. Its JS heap alone is below theirs (see the memory table).";
  add("memory", `JS heap + wasm after ${sm.genwire.cycles.toLocaleString("en")} subscribes`, sm.genwire.after.total, sm.theirs.after.total, "lower", mib, whyMem);
  addGrowth(f, `growth over ${sm.genwire.cycles.toLocaleString("en")} subscribes`, sm.genwire.delta.total, sm.theirs.delta.total);
  add("memory", `JS heap + wasm after ${rm.genwire.cycles.toLocaleString("en")} realtime connect/close`, rm.genwire.after.total, rm.theirs.after.total, "lower", mib, whyMem);
  addGrowth(f, `growth over ${rm.genwire.cycles.toLocaleString("en")} realtime connect/close`, rm.genwire.delta.total, rm.theirs.delta.total);

  const st = r.startupMs;
  const whyStart = "genwire's start-up includes fetching and compiling its wasm module, several times the bytes of @fal-ai/client's bundle (see the download rows).";
  add("start-up", "module start-up p50 (fetch, compile, init)", st.genwire.p50, st.theirs.p50, "lower", ms, whyStart);
  add("start-up", "module start-up p95", st.genwire.p95, st.theirs.p95, "lower", ms, whyStart);
  // The figures users feel, first in RESULTS.md: latency with realistic jobs, first-use download, realtime CPU.
  const lead = [
    "job completed → result in the app, p50, each client's default (genwire streaming, theirs polling)",
    "job completed → result in the app, p95, each client's default",
    "job started → first IN_PROGRESS in the app, p50, each client's default",
    "requests per job, each client's default",
    "first-use download, a subscribe page (`genwire/queue`, `validation: false`), gzip -9",
    "first-use download, a subscribe page with validation (`genwire/queue`), gzip -9",
    "first-use download, a realtime page (`genwire`, `validation: false`), gzip -9",
    "first-use download, every feature and the hooks (the whole library), gzip -9",
    "script time per 64 KiB input (CPU-profile samples)",
    "main-thread CPU per input (all tasks)",
  ];
  lead.forEach((label, i) => Object.assign(f.find((x) => x.label === label) ?? {}, { lead: i + 1 }));
  f.push({ group: "validation", label: "validation per input (flux/dev, schema cached)", genwire: us(r.validation.clientValidUs), theirs: "n/a (no client validation)", factor: null, verdict: "genwire only: @fal-ai/client sends every input and waits for the server's 422" });
  return f;
}

/** Memory growth: a ratio only when a client grew past the noise floor. */
function addGrowth(f, label, g, t) {
  const row = { group: "memory", label: `${label} (JS heap + wasm)`, genwire: signedMib(g), theirs: signedMib(t), g, t, factor: null };
  if (Math.max(g, t) < NOISE_BYTES) row.verdict = `even: both within ${kib(NOISE_BYTES)} (GC noise)`;
  else if (g < NOISE_BYTES) row.verdict = `**ahead**: genwire flat, theirs grew ${mib(t)}`;
  else if (t < NOISE_BYTES) {
    row.verdict = `**behind**: genwire grew ${mib(g)}, theirs flat`;
    row.why = "genwire's wasm memory grew during the run (a high-water mark: linear memory never shrinks) or something is retained; see results.json for the JS heap and wasm parts.";
  } else {
    row.factor = t / g;
    row.why = "both grew past the noise floor: a high-water mark of the wasm memory, caches filling (the stats window holds 1,000 calls), or something retained; results.json has the JS heap and wasm parts. What genwire retains per cycle is tested, not just measured: tests/realtime-memory.test.mjs counts each cycle's objects after forced collections.";
  }
  f.push(row);
}

export function verdict(row) {
  if (row.verdict) return row.verdict;
  if (row.factor == null) return "n/a";
  const x = row.factor >= 1 ? row.factor : 1 / row.factor;
  const ratio = x >= 10 ? x.toFixed(0) : x.toFixed(2);
  if (Math.abs(Math.log(row.factor)) < Math.log(1.05)) return `even (within 5%, ×${row.factor.toFixed(2)})`;
  return row.factor > 1 ? `**ahead**, ${ratio}× better` : `**behind**, ${ratio}× worse`;
}

export function markdown(r) {
  const rows = figures(r);
  const behind = rows.filter((x) => (x.factor != null && x.factor < 1 / 1.05) || x.verdict?.startsWith("**behind"));
  const sizeRows = (t) => t.files.map((x) => `| \`${x.file}\` | ${x.what} | ${kib(x.raw)} | ${kib(x.gzip)} | ${kib(x.brotli)} |`).join("\n");
  const L = r.latency;
  const lat = (x) => (x ? ms(x.p50) : "n/a");
  const latencyRows = Object.values(L.modes)
    .map((m) => `| ${m.label} | ${ms(m.p50)} | ${ms(m.p95)} | ${ms(m.max)} | ${ms(m.totalMinusDuration.p50)} | ${lat(m.firstUpdate)} | ${lat(m.firstUpdateLag)} | ${m.requestsPerJob.toFixed(1)} | ${ms(m.clock.proxyRoundTripMs)} |`)
    .join("\n");
  const lead = rows.filter((x) => x.lead).sort((a, b) => a.lead - b.lead);
  const memRow = (name, m) => `| ${name} | ${mib(m.baseline.jsHeap)} + ${mib(m.baseline.wasm)} | ${mib(m.after.jsHeap)} + ${mib(m.after.wasm)} | ${signedMib(m.delta.jsHeap)} / ${signedMib(m.delta.wasm)} | ${m.seconds.toFixed(1)} s |`;
  const st = r.startupMs;
  const lazy = r.size.genwire.lazy?.length
    ? `\nLoaded only when used, not counted above: ${r.size.genwire.lazy.map((x) => `\`${x.file}\` (${kib(x.gzip)} gzip)`).join(", ")}.\n`
    : "";
  return `# Benchmark results: genwire and @fal-ai/client

Measured by \`npm run bench\` on ${r.date.slice(0, 10)}${r.quick ? " (**BENCH_QUICK smoke run: small counts, not the record**)" : ""}.

- Machine: ${r.machine}; ${r.browser} (headless, system build), Node ${r.node}.
- Both clients run in the same browser against the same local simulator, through the same proxy
  (\`/api/fal/proxy\`): genwire with \`createClient({ proxyUrl })\`, theirs (${r.theirs}) with
  \`createFalClient({ proxyUrl })\`. Latency: jobs of 1–6 s of model time after 0–2 queue steps (a
  seeded draw, the same jobs for every mode); everything else on a zero-latency model.
- Figures are reported, never asserted; they move with the machine and its load (several engineers
  share this 2-core machine: read a gap of ~25% or a few ms as even). "Ahead" and "behind" are
  genwire's position; the ratio is how many times better or worse than theirs.

## What users feel

| figure | genwire | @fal-ai/client | genwire is |
| --- | ---: | ---: | --- |
${lead.map((x) => `| ${x.label} | ${x.genwire} | ${x.theirs} | ${verdict(x)} |`).join("\n")}

@fal-ai/client is one CommonJS bundle: every page downloads all of it. genwire's download is per kind
of page (its entry, the core that entry and the client's options pick, the modules it brings in
later; "What the browser downloads" below, and docs/size.md for how it is split and why further).

![genwire vs @fal-ai/client, figure by figure](chart.svg)

## Every figure

| figure | genwire | @fal-ai/client | genwire is |
| --- | ---: | ---: | --- |
${rows.map((x) => `| ${x.label} | ${x.genwire} | ${x.theirs} | ${verdict(x)} |`).join("\n")}

${behind.length ? `### Where genwire is behind, and why\n\n${[...new Map(behind.map((x) => [x.why, x])).values()].map((x) => `- **${x.label}**${behind.filter((y) => y.why === x.why && y !== x).map((y) => `, **${y.label}**`).join("")}: ${x.why}`).join("\n")}\n` : "genwire is ahead or even on every figure.\n"}
## Subscribe latency with realistic jobs

${L.jobs} jobs per mode (model time 1–6 s uniform after 0–2 queue steps of ${L.queueStepMs} ms, seed ${L.seed};
durations p50 ${(L.durations.p50 / 1000).toFixed(2)} s, max ${(L.durations.max / 1000).toFixed(2)} s), ${L.concurrency} at a time per mode, each mode in its own browser
context, the four modes side by side. Each job's length is set on the simulator by a fault for its
prompt. Every time is in **the page's clock**: the simulator's completion and start times
(\`/__sim/jobs\`) are moved onto it by an offset read from \`/__sim/now\` around the quickest of 25
round trips (its error is at most half that round trip, given below per mode as \`±\`).

- *completed → result*: from the job completing to \`subscribe()\` resolving in the app.
- *total − duration*: the same without the simulator's clock (submit to resolve, minus the job's
  known length): it also holds the submit's way there, so it is a little larger.
- *first IN_PROGRESS*: from calling \`subscribe()\` to the first \`onQueueUpdate\` with IN_PROGRESS;
  *after start*: the same from the moment the job started running (queue time taken out).
- *requests*: every \`fetch\` the page made, divided by the jobs (a status stream is one).
- *round trip*: p50 of a status request through the proxy on the same page: what fetching the
  result after COMPLETED costs.

| mode | completed → result p50 | p95 | max | total − duration p50 | first IN_PROGRESS p50 | after start p50 | requests / job | round trip |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${latencyRows}

Clock offsets (page → simulator): ${Object.values(L.modes).map((m) => `${m.label.split(" (")[0]} ${m.clock.offsetMs.toFixed(2)} ms ± ${m.clock.offsetErrorMs.toFixed(2)}`).join("; ")}.
genwire's default is ${(L.modes.theirsPolling.p50 / L.modes.genwireStreaming.p50).toFixed(1)}× faster than @fal-ai/client's default at p50, and ${ms(L.modes.genwireStreaming.p50)} against a round trip of ${ms(L.modes.genwireStreaming.clock.proxyRoundTripMs)} (the stream's COMPLETED event, then the result fetch).

## What the browser downloads

Both built the same way: \`esbuild --bundle --minify --format=esm\` (browser), then compressed.

| file | what | raw | gzip -9 | brotli 11 |
| --- | --- | ---: | ---: | ---: |
${sizeRows(r.size.genwire)}
| **genwire, the whole library** (full core, entry, hooks) | | **${kib(r.size.genwire.total.raw)}** | **${kib(r.size.genwire.total.gzip)}** | **${kib(r.size.genwire.total.brotli)}** |
${sizeRows(r.size.theirs)}
| **@fal-ai/client total** | | **${kib(r.size.theirs.total.raw)}** | **${kib(r.size.theirs.total.gzip)}** | **${kib(r.size.theirs.total.brotli)}** |
${lazy}
What each kind of page fetches on first use (bench/sizes.mjs \`PAGES\`), against all of @fal-ai/client:

| page | what | files | gzip -9 | × @fal-ai/client |
| --- | --- | --- | ---: | ---: |
${Object.entries(r.size.genwire.pages ?? {}).map(([kind, p]) => `| \`${kind}\` | ${p.what} | ${p.files.map((f) => `\`${f}\``).join(" + ")} | ${kib(p.gzip)} | ${(p.gzip / r.size.theirs.total.gzip).toFixed(2)}× |`).join("\n")}

The CI size gate (\`node scripts/size-check.mjs\`, in \`npm test\` after the build) holds the whole
library and each kind of page to its budget in [size-budget.json](size-budget.json).

## Realtime

\`genwire/echo\` (the simulator's echo app), \`throttleInterval: 0\`, inputs \`{ seq, image: Uint8Array(65536) }\`
(msgpack binary frames in both clients), ${r.realtime.genwire.inputs} inputs with ${r.realtime.genwire.inFlight} in flight after
a warm-up; every result checked to echo 64 KiB. ${r.realtime.genwire.rounds ?? 1} rounds per client, interleaved, each figure the
median round (all rounds: ${["genwire", "theirs"].map((k) => `${k === "genwire" ? "genwire" : "theirs"} ${(r.realtime[k].runs ?? []).map((x) => x.inputsPerSecond.toFixed(0)).join(", ")}/s`).join("; ")}).
genwire frames an input in its core without copying the bytes into wasm memory: the encoder writes
only the msgpack framing, and the caller's 64 KiB are copied once, in JS, into the frame \`ws.send\` gets.

- *script (samples)*: the CPU profiler's samples (every 100 µs) in JavaScript, wasm and the built-ins
  script calls (\`ws.send\`, \`Blob.arrayBuffer\`), without idle time, the browser's own work and GC.
- *script (ScriptDuration)*: CDP \`Performance.getMetrics\`. It does not count promise reactions:
  20 ms of work measured ${r.realtime.scriptMetricCheck ? `${r.realtime.scriptMetricCheck.task.scriptDurationMs.toFixed(1)} ms in a task, ${r.realtime.scriptMetricCheck.queueMicrotask.scriptDurationMs.toFixed(1)} ms in a \`queueMicrotask\` callback and ${r.realtime.scriptMetricCheck.promiseThen.scriptDurationMs.toFixed(1)} ms in a \`.then\` callback` : "(not checked)"} in this run.
  @fal-ai/client handles each message in \`.then\` callbacks (\`blob.arrayBuffer().then(...)\`, then
  its decode, the app's \`onResult\` and the next \`send\`); genwire's driver runs in microtasks queued
  with \`queueMicrotask\`, which are counted. So this column undercounts theirs.
- *main-thread CPU*: TaskDuration over the run: everything the page's main thread did.

| client | inputs/s | script per input (samples) | script per input (ScriptDuration) | main-thread CPU per input | GC per input |
| --- | ---: | ---: | ---: | ---: | ---: |
| genwire | ${r.realtime.genwire.inputsPerSecond.toFixed(0)} | ${ms(r.realtime.genwire.sampledScriptMsPerInput)} | ${ms(r.realtime.genwire.scriptMsPerInput)} | ${ms(r.realtime.genwire.cpuMsPerInput)} | ${ms(r.realtime.genwire.gcMsPerInput)} |
| @fal-ai/client | ${r.realtime.theirs.inputsPerSecond.toFixed(0)} | ${ms(r.realtime.theirs.sampledScriptMsPerInput)} | ${ms(r.realtime.theirs.scriptMsPerInput)} | ${ms(r.realtime.theirs.cpuMsPerInput)} | ${ms(r.realtime.theirs.gcMsPerInput)} |

## Memory

JS heap (\`Runtime.getHeapUsage\` after two forced GCs) + wasm linear memory (genwire only), before and
after the cycles; baseline after the module loaded and a few warm-up cycles. Subscribes use each
client's default mode (genwire: streaming, theirs: polling), ${r.subscribeMemory.genwire.concurrency} at a time. A realtime cycle is
\`connect\` (default options, so a new connection key each time), one input, its result, \`close\`.

| run | baseline (heap + wasm) | after (heap + wasm) | growth (heap / wasm) | took |
| --- | ---: | ---: | ---: | ---: |
${memRow(`genwire, ${r.subscribeMemory.genwire.cycles.toLocaleString("en")} subscribes`, r.subscribeMemory.genwire)}
${memRow(`@fal-ai/client, ${r.subscribeMemory.theirs.cycles.toLocaleString("en")} subscribes`, r.subscribeMemory.theirs)}
${memRow(`genwire, ${r.realtimeMemory.genwire.cycles.toLocaleString("en")} realtime connect/close`, r.realtimeMemory.genwire)}
${memRow(`@fal-ai/client, ${r.realtimeMemory.theirs.cycles.toLocaleString("en")} realtime connect/close`, r.realtimeMemory.theirs)}

Sockets still open on the server after the realtime cycles: genwire ${r.realtimeMemory.genwire.serverSocketsOpenAfter}, @fal-ai/client ${r.realtimeMemory.theirs.serverSocketsOpenAfter}.
Reading @fal-ai/client's \`src/realtime.js\`: it keeps a state machine and the callbacks per connection key in
module-level maps that \`close()\` never clears, so with its default (a random key per \`connect\`) they
accumulate; genwire frees a connection's entry on its last \`close()\`.

## Module start-up

Fetch, compile/evaluate and initialise, in a fresh browser context each run (nothing cached),
${st.genwire.n} runs per variant, interleaved. The bundles come from the same local static server.

| variant | p50 | p95 |
| --- | ---: | ---: |
| genwire bundle (\`genwire.min.js\` + wasm; \`init()\`, \`createClient()\`) | ${ms(st.genwire.p50)} | ${ms(st.genwire.p95)} |
| @fal-ai/client bundle (\`createFalClient()\`) | ${ms(st.theirs.p50)} | ${ms(st.theirs.p95)} |
| genwire as published, unbundled (\`js/index.js\` → \`pkg/genwire.js\` → wasm, from the dev server) | ${ms(st.genwireUnbundled.p50)} | ${ms(st.genwireUnbundled.p95)} |

## Validation of a flux-sized input (8 fields, nested \`image_size\`)

@fal-ai/client has no client-side validation: n/a.

| how | genwire, time per input |
| --- | ---: |
| \`client.validate\`, valid input (schema cached) | ${us(r.validation.clientValidUs)} |
| \`client.validate\`, input with 3 issues | ${us(r.validation.clientInvalidUs)} |
| \`validate(doc, input)\` (compiles the schema each call) | ${us(r.validation.pureValidUs)} |

The goal is "well under a millisecond" (1000 µs).
`;
}

/** A horizontal bar per figure: log scale of genwire's factor, right = genwire ahead. */
export function chartSvg(r) {
  const rows = figures(r).filter((x) => x.factor != null);
  const W = 940, left = 400, right = 30, rowH = 26, top = 58, max = 16;
  const plotW = W - left - right, mid = left + plotW / 2;
  const H = top + rows.length * rowH + 44;
  const x = (factor) => mid + (Math.max(-1, Math.min(1, Math.log(factor) / Math.log(max))) * plotW) / 2;
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/\*/g, "");
  const ticks = [1 / 16, 1 / 4, 1, 4, 16];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">genwire vs @fal-ai/client: how many times better (right) or worse (left)</text>`,
    `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(r.date.slice(0, 10))}, ${esc(r.machine.split(",")[0])}${r.quick ? " (smoke run)" : ""}; log scale, clipped at ${max}×</text>`,
  ];
  for (const t of ticks) {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top - 6}" y2="${top + rows.length * rowH}" stroke="${t === 1 ? "#333" : "#ddd"}"/>`);
    parts.push(`<text x="${x(t)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${t >= 1 ? `${t}×` : `1/${1 / t}×`}</text>`);
  }
  parts.push(`<text x="${x(1 / 16) + 4}" y="${top + rows.length * rowH + 34}" fill="#b33">← genwire behind</text>`);
  parts.push(`<text x="${x(16) - 4}" y="${top + rows.length * rowH + 34}" text-anchor="end" fill="#286">genwire ahead →</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    const xe = x(row.factor);
    const ahead = row.factor >= 1;
    parts.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(row.group)}: ${esc(row.label)}</text>`);
    parts.push(`<rect x="${Math.min(mid, xe)}" y="${y + 5}" width="${Math.max(1, Math.abs(xe - mid))}" height="${rowH - 10}" fill="${ahead ? "#3a9" : "#d55"}"/>`);
    const label = ahead ? `${row.factor.toFixed(2)}× better` : `${(1 / row.factor).toFixed(2)}× worse`;
    // Long bars carry their label inside, so it never runs into the figure names or off the edge.
    const inside = Math.abs(xe - mid) > plotW * 0.3;
    const lx = inside ? (ahead ? xe - 4 : xe + 4) : ahead ? xe + 4 : xe - 4;
    const anchor = inside === ahead ? "end" : "start";
    parts.push(`<text x="${lx}" y="${y + 16}" text-anchor="${anchor}" fill="${inside ? "#fff" : "#333"}">${label}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
