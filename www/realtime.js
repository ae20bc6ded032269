// The realtime section: a slider driving a realtime endpoint over one WebSocket.
import { createClient } from "/js/index.js";

const $ = (id) => document.getElementById(id);
// The demo server simulates fal's realtime sockets on its own origin.
const client = createClient({ realtimeUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sim/realtime` });
let sent = 0, received = 0;

function log(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("rt-log").prepend(li);
  while ($("rt-log").children.length > 30) $("rt-log").lastChild.remove();
}

const conn = client.realtime.connect("fal-ai/lcm-sd15-i2i", {
  connectionKey: "demo",
  throttleInterval: 64,
  onResult: (r) => {
    received++;
    if (r.images?.[0]) $("rt-image").src = r.images[0].url;
    counts();
  },
  onError: (e) => log(`error: ${e.kind}/${e.category}: ${e.message}`),
  onStatus: (s) => {
    $("rt-status").textContent = s.status + (s.delayMs ? ` (attempt ${s.attempt}, ${Math.round(s.delayMs)} ms)` : "");
    $("rt-status").className = `pill ${s.status}`;
    log(s.status + (s.attempt ? ` #${s.attempt}` : "") + (s.delayMs ? ` in ${Math.round(s.delayMs)} ms` : ""));
  },
});

function counts() {
  $("rt-counts").textContent = `${sent} inputs, ${received} results`;
}

function send() {
  sent++;
  conn.send({ prompt: $("rt-prompt").value, seed: Number($("rt-seed").value), seq: sent });
  counts();
}

$("rt-seed").addEventListener("input", send);
$("rt-prompt").addEventListener("input", send);

let sweep = null;
$("rt-sweep").addEventListener("click", () => {
  if (sweep) {
    clearInterval(sweep);
    sweep = null;
    $("rt-sweep").textContent = "Sweep";
    return;
  }
  $("rt-sweep").textContent = "Stop";
  let dir = 7;
  sweep = setInterval(() => {
    const s = $("rt-seed");
    let v = Number(s.value) + dir;
    if (v > 1000 || v < 0) { dir = -dir; v = Number(s.value) + dir; }
    s.value = String(v);
    send();
  }, 66);
});

$("rt-drop").addEventListener("click", async () => {
  // Ask the simulator to cut the socket after its next result, then clear the fault.
  await fetch("/__sim/realtime/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ drop_after: 1 }) });
  send();
  setTimeout(() => fetch("/__sim/realtime/faults", { method: "DELETE" }), 150);
});
$("rt-reconnect").addEventListener("click", () => conn.reconnect());
// No socket until the first input: the page costs nothing until someone uses this.
