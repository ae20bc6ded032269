import { createClient } from "/js/index.js";

const client = createClient({ proxyUrl: "/api/fal/proxy" });
const $ = (id) => document.getElementById(id);
let running = null;

function setPhase(text, cls = text) {
  $("phase").textContent = text.replace("_", " ").toLowerCase();
  $("phase").className = `phase ${cls}`;
}

function onUpdate(update) {
  setPhase(update.status);
  $("position").textContent = update.status === "IN_QUEUE" ? `position ${update.queue_position ?? "?"}` : "";
  const logs = update.logs ?? [];
  $("logs").replaceChildren(...logs.map((l) => Object.assign(document.createElement("li"), { textContent: l.message })));
}

$("gen").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const seed = $("seed").value === "" ? undefined : Number($("seed").value);
  const input = { prompt: $("prompt").value, image_size: $("image_size").value, seed };
  $("error").hidden = true;
  $("result-card").hidden = true;
  $("logs").replaceChildren();
  $("generate").disabled = true;
  $("cancel").disabled = false;
  setPhase("submitting", "idle");
  const started = performance.now();
  const tick = setInterval(() => ($("elapsed").textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`), 100);
  try {
    const { data, requestId } = await client.subscribe("fal-ai/flux/dev", {
      input, logs: true, mode: $("mode").value, onQueueUpdate: onUpdate, signal: controller.signal,
    });
    const img = data.images?.[0];
    $("image").src = img.url;
    $("image").width = img.width;
    $("meta").textContent = `${img.width}×${img.height} · seed ${data.seed} · request ${requestId}`;
    $("result-card").hidden = false;
  } catch (e) {
    setPhase(e.kind === "aborted" ? "canceled" : "error", "error");
    if (e.kind !== "aborted") {
      $("error").textContent = `${e.kind ?? "error"}: ${e.message}`;
      $("error").hidden = false;
    }
  } finally {
    clearInterval(tick);
    if (running === controller) running = null;
    $("generate").disabled = false;
    $("cancel").disabled = true;
  }
});

$("cancel").addEventListener("click", () => running?.abort());
