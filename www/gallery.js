// The error gallery: real faults from the simulator, shown the way a UI should.
import { createClient } from "/js/index.js";

const $ = (id) => document.getElementById(id);
const EXAMPLES = [
  ["Field out of range", "seed001/less_than_equal"],
  ["Wrong choice", "seed001/one_of"],
  ["Image too small", "seed001/image_too_small"],
  ["Content policy", "seed001/content_policy_violation"],
  ["Several fields", "seed004/invalid_input"],
  ["Rate limited (Retry-After)", "ratelimit/retry_after_seconds"],
  ["Runner disconnected", "seed002/runner_disconnected"],
  ["Request timeout", "seed002/request_timeout"],
  ["Gateway HTML 502", "gateway/html_502"],
  ["Model crashed", "seed001/internal_server_error:not_retryable"],
  ["Bad key", "seed004/unauthorized"],
];

let breaker = "closed";
const client = createClient({
  retry: false, // the gallery shows each error as it arrives; the app decides
  circuitBreaker: { failureThreshold: 3, openMs: 8000 },
  onEvent: (e) => {
    if (e.type === "breaker") setBreaker(e.to, e.reopensAt);
    if (e.type === "attempt" || e.type === "success") return;
    const li = document.createElement("li");
    li.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.type}${e.call ? ` ${e.call}` : ""}${e.error ? `: ${e.error.kind}/${e.error.category}` : ""}${e.to ? `: ${e.from} → ${e.to}` : ""}`;
    $("events").prepend(li);
  },
});

function setBreaker(state, reopensAt) {
  breaker = state;
  const el = $("breaker-state");
  el.className = `pill ${state}`;
  el.textContent = state === "open" && reopensAt ? `open until ${new Date(reopensAt).toLocaleTimeString()}` : state.replace("_", "-");
}

async function trigger(example) {
  const prompt = `gallery ${example} ${Date.now()}`;
  await fetch("/__sim/faults", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, faults: { submit_error: { example } } }),
  });
  try {
    await client.subscribe("fal-ai/flux/dev", { input: { prompt } });
    show(null);
  } catch (e) {
    show(e, example);
  }
}

let countdown = null;
function show(e, example) {
  clearInterval(countdown);
  for (const l of document.querySelectorAll("#mock-form label")) {
    l.classList.remove("bad");
    l.querySelector(".issue")?.remove();
  }
  const view = $("error-view");
  if (!e) {
    view.innerHTML = `<p>No error: the job succeeded.</p>`;
    return;
  }
  // Field highlight: every issue on its field.
  for (const issue of e.issues ?? []) {
    const label = document.querySelector(`#mock-form label[data-field="${CSS.escape(issue.field.split(/[.[]/)[0])}"]`);
    if (!label) continue;
    label.classList.add("bad");
    label.append(Object.assign(document.createElement("span"), { className: "issue", textContent: issue.msg }));
  }
  view.replaceChildren();
  const title = document.createElement("div");
  title.className = "title";
  title.innerHTML = `<span class="pill">${e.kind}</span><span class="pill">${e.category}</span><span class="pill ${e.retryable ? "retry" : "final"}">${e.retryable ? "can retry" : "final"}</span>`;
  const msg = Object.assign(document.createElement("p"), { className: "message", textContent: e.message });
  view.append(title, msg);
  if (e.retryable) {
    const retry = Object.assign(document.createElement("button"), { type: "button", className: "secondary", textContent: "Retry" });
    retry.addEventListener("click", () => trigger(example));
    if (e.retryAfterMs) {
      const until = Date.now() + e.retryAfterMs;
      const left = Object.assign(document.createElement("p"), { className: "countdown" });
      retry.disabled = true;
      const tick = () => {
        const ms = until - Date.now();
        const why = e.kind === "circuit_open" ? "the breaker lets a trial through then" : "the server asked to wait";
        left.textContent = ms > 0 ? `Retry in ${(ms / 1000).toFixed(1)} s (${why})` : "You can retry now.";
        if (ms <= 0) { retry.disabled = false; clearInterval(countdown); }
      };
      tick();
      countdown = setInterval(tick, 100);
      view.append(left);
    }
    view.append(retry);
  }
  const dl = document.createElement("dl");
  for (const [k, v] of [["status", e.status], ["errorType", e.errorType], ["requestId", e.requestId], ["docs", e.docsUrl]]) {
    if (v === undefined) continue;
    dl.append(Object.assign(document.createElement("dt"), { textContent: k }), Object.assign(document.createElement("dd"), { textContent: String(v) }));
  }
  view.append(dl);
}

for (const [label, example] of EXAMPLES) {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: label });
  b.dataset.example = example;
  b.addEventListener("click", () => trigger(example));
  $("gallery-buttons").append(b);
}

$("break-it").addEventListener("click", async () => {
  for (let i = 0; i < 3 && breaker === "closed"; i++) await trigger("seed002/runner_scheduling_failure");
  await trigger("seed002/runner_scheduling_failure"); // now refused without a request: circuit_open
});
