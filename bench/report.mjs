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
  const whySize = "genwire ships its engine as wasm, which @fal-ai/client has no counterpart for: by area (each gzipped alone, docs/size.md) the queue, subscribe, requests and SSE ~16 KB, the schema validator ~13 KB, realtime (connection machine, reconnection, tokens, msgpack) ~14 KB, uploads (multipart, progress) ~9 KB, errors, retry policy and breaker ~8 KB, and the bindings glue ~7 KB. Two size passes took it from 174 to 104 KiB; the rest is features, each tested. It is fetched once per page and compiled while the page loads; the other rows are what it buys.";
  add("download", "bytes downloaded, raw", size.genwire.total.raw, size.theirs.total.raw, "lower", kib, whySize);
  add("download", "bytes downloaded, gzip -9", size.genwire.total.gzip, size.theirs.total.gzip, "lower", kib, whySize);
  add("download", "bytes downloaded, brotli 11", size.genwire.total.brotli, size.theirs.total.brotli, "lower", kib, whySize);

  const o = r.subscribeOverheadMs;
  const whyPoll = "both poll at once after the submit, then every 500 ms; on a zero-latency model what is left is each client's own work per answer, and genwire passes every answer through its wasm decoder, retry policy, stats and events: about half a millisecond per job here, within the machine's noise at p95.";
  const whyStream = "both make the same three requests (submit, status stream, result) through the same proxy; genwire also passes every answer through its wasm decoder, retry policy, stats and events (not profiled separately here). Tails also carry the machine's load (see the load average above): compare the p50 rows, and a run on a quiet machine.";
  add("subscribe", "overhead p50, streaming", o.genwireStreaming.p50, o.theirsStreaming.p50, "lower", ms, whyStream);
  add("subscribe", "overhead p95, streaming", o.genwireStreaming.p95, o.theirsStreaming.p95, "lower", ms, whyStream);
  add("subscribe", "overhead p50, polling", o.genwirePolling.p50, o.theirsPolling.p50, "lower", ms, whyPoll);
  add("subscribe", "overhead p95, polling", o.genwirePolling.p95, o.theirsPolling.p95, "lower", ms, whyPoll);
  add("subscribe", "overhead p50, each client's default mode", o.genwireStreaming.p50, o.theirsPolling.p50, "lower", ms, whyStream);

  const rt = r.realtime;
  const whyRt = "genwire reads each input into wasm memory (a copy of the 64 KiB), encodes the msgpack frame there and hands it to the socket as a new JS array (two more copies); @fal-ai/client encodes in JS straight from the caller's array. The rounds of the two clients overlap (see the Realtime section), so this gap is near the machine's noise.";
  add("realtime", "inputs per second (64 KiB, throttle 0)", rt.genwire.inputsPerSecond, rt.theirs.inputsPerSecond, "higher", (n) => `${n.toFixed(0)}/s`, whyRt);
  add("realtime", "main-thread CPU per input", rt.genwire.cpuMsPerInput, rt.theirs.cpuMsPerInput, "lower", ms, whyRt);

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
  const o = r.subscribeOverheadMs;
  const overheadRows = Object.values(o).map((m) => `| ${m.label} | ${ms(m.p50)} | ${ms(m.p95)} | ${ms(m.min)} | ${ms(m.max)} |`).join("\n");
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
  \`createFalClient({ proxyUrl })\`. Zero-latency model: \`--latency-ms 0 --queue-depth 0\`.
- Figures are reported, never asserted; they move with the machine and its load. "Ahead" and
  "behind" are genwire's position; the ratio is how many times better or worse than theirs.
- Run to run on this 2-core machine, the subscribe-overhead, realtime and start-up rows move by up
  to ~25%: over the five runs of 2026-11-22 (the code changed a little between some of them), each
  of those rows came out ahead in one run and behind in another. Read a gap below that as even.
  Size and memory repeat to within a few percent.

![genwire vs @fal-ai/client, figure by figure](chart.svg)

## Summary

| figure | genwire | @fal-ai/client | genwire is |
| --- | ---: | ---: | --- |
${rows.map((x) => `| ${x.label} | ${x.genwire} | ${x.theirs} | ${verdict(x)} |`).join("\n")}

${behind.length ? `### Where genwire is behind, and why\n\n${[...new Map(behind.map((x) => [x.why, x])).values()].map((x) => `- **${x.label}**${behind.filter((y) => y.why === x.why && y !== x).map((y) => `, **${y.label}**`).join("")}: ${x.why}`).join("\n")}\n` : "genwire is ahead or even on every figure.\n"}
## What the browser downloads

Both built the same way: \`esbuild --bundle --minify --format=esm\` (browser), then compressed.

| file | what | raw | gzip -9 | brotli 11 |
| --- | --- | ---: | ---: | ---: |
${sizeRows(r.size.genwire)}
| **genwire total** | | **${kib(r.size.genwire.total.raw)}** | **${kib(r.size.genwire.total.gzip)}** | **${kib(r.size.genwire.total.brotli)}** |
${sizeRows(r.size.theirs)}
| **@fal-ai/client total** | | **${kib(r.size.theirs.total.raw)}** | **${kib(r.size.theirs.total.gzip)}** | **${kib(r.size.theirs.total.brotli)}** |
${lazy}
The CI size gate (\`node scripts/size-check.mjs\`, in \`npm test\` after the build) holds genwire's gzip
total to the budget in [size-budget.json](size-budget.json).

## Subscribe overhead

Time from the job completing in the simulator (its recorded completion time, \`completed_at_ms\` of
\`/__sim/jobs\`) to the caller's promise resolving with the result (\`performance.timeOrigin +
performance.now()\`; same machine clock), ${o.genwireStreaming.n} jobs per mode after 10 warm-up jobs,
one at a time. On a zero-latency model a job is complete when it is created,
so this is everything the client does after the submit reached the server: the submit's answer, the
status stream or polls, and the result fetch. Both clients' default \`pollInterval\` is 500 ms.

| mode | p50 | p95 | min | max |
| --- | ---: | ---: | ---: | ---: |
${overheadRows}

## Realtime

\`genwire/echo\` (the simulator's echo app), \`throttleInterval: 0\`, inputs \`{ seq, image: Uint8Array(65536) }\`
(msgpack binary frames in both clients), ${r.realtime.genwire.inputs} inputs with ${r.realtime.genwire.inFlight} in flight after
a warm-up; every result checked to echo 64 KiB. ${r.realtime.genwire.rounds ?? 1} rounds per client, interleaved, each figure the
median round (all rounds: ${["genwire", "theirs"].map((k) => `${k === "genwire" ? "genwire" : "theirs"} ${(r.realtime[k].runs ?? []).map((x) => x.inputsPerSecond.toFixed(0)).join(", ")}/s`).join("; ")}). CPU: main-thread task time (CDP
\`Performance.getMetrics\` TaskDuration) over the run, divided by the inputs; it includes the bench's
own few lines per input, alike for both.

| client | inputs/s | main-thread CPU per input | of which script |
| --- | ---: | ---: | ---: |
| genwire | ${r.realtime.genwire.inputsPerSecond.toFixed(0)} | ${ms(r.realtime.genwire.cpuMsPerInput)} | ${ms(r.realtime.genwire.scriptMsPerInput)} |
| @fal-ai/client | ${r.realtime.theirs.inputsPerSecond.toFixed(0)} | ${ms(r.realtime.theirs.cpuMsPerInput)} | ${ms(r.realtime.theirs.scriptMsPerInput)} |

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
