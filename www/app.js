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

/** The form as the endpoint's input: empty number fields are left out (the defaults apply). */
function readInput() {
  const input = { prompt: $("prompt").value, image_size: $("image_size").value };
  for (const id of ["num_inference_steps", "guidance_scale", "num_images", "seed"]) {
    const n = $(id).valueAsNumber;
    if (!Number.isNaN(n)) input[id] = n;
  }
  return input;
}

// Validation as you type: the endpoint's schema is fetched once, then each check is local.
let checking = 0;
async function checkForm() {
  const mine = ++checking;
  let issues = [];
  try {
    issues = await client.validate("fal-ai/flux/dev", readInput());
  } catch {
    issues = []; // no schema: the server will judge
  }
  if (mine !== checking) return; // a newer keystroke won
  for (const el of document.querySelectorAll("[data-issue-for]")) {
    const issue = issues.find((i) => i.field.split(/[.[]/)[0] === el.dataset.issueFor);
    el.replaceChildren();
    if (issue) {
      el.append(issue.msg);
      if (issue.hint) el.append(Object.assign(document.createElement("span"), { className: "hint", textContent: issue.hint }));
    }
    const field = $(el.dataset.issueFor);
    (field.closest("label") ?? field).classList.toggle("invalid", Boolean(issue));
  }
  $("validity").textContent = issues.length ? `${issues.length} input${issues.length > 1 ? "s" : ""} to fix before generating` : "";
  $("generate").disabled = issues.length > 0 || running !== null;
}
$("gen").addEventListener("input", checkForm);
checkForm();

$("gen").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const input = readInput();
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
    $("cancel").disabled = true;
    checkForm();
  }
});

$("cancel").addEventListener("click", () => running?.abort());
