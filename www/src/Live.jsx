// Realtime: a slider drives a realtime endpoint over one WebSocket. Inputs are throttled (newest
// wins); a dropped socket reconnects by itself with backoff; no socket until the first input.
import { useEffect, useRef, useState } from "react";
import { useRealtime } from "genwire/react";

export function Live() {
  const [prompt, setPrompt] = useState("a koi pond, ink wash");
  const [seed, setSeed] = useState(500);
  const [counts, setCounts] = useState({ sent: 0, received: 0 });
  const [events, setEvents] = useState([]);
  const [sweeping, setSweeping] = useState(false);
  const log = (text) => setEvents((e) => [`${new Date().toLocaleTimeString()} ${text}`, ...e].slice(0, 30));
  const rt = useRealtime("fal-ai/lcm-sd15-i2i", {
    connectionKey: "demo",
    throttleInterval: 64,
    onResult: () => setCounts((c) => ({ ...c, received: c.received + 1 })),
    onError: (e) => log(`error: ${e.kind}/${e.category}: ${e.message}`),
    onStatus: (s) => log(s.status + (s.attempt ? ` #${s.attempt}` : "") + (s.delayMs ? ` in ${Math.round(s.delayMs)} ms` : "")),
  });
  const latest = useRef({ prompt, seed });
  latest.current = { prompt, seed };

  const send = (next = {}) => {
    const input = { ...latest.current, ...next };
    setCounts((c) => ({ ...c, sent: c.sent + 1 }));
    rt.send({ prompt: input.prompt, seed: Number(input.seed) });
  };

  useEffect(() => {
    if (!sweeping) return undefined;
    let dir = 7;
    const t = setInterval(() => {
      let v = latest.current.seed + dir;
      if (v > 1000 || v < 0) { dir = -dir; v = latest.current.seed + dir; }
      setSeed(v);
      latest.current.seed = v;
      send({ seed: v });
    }, 66);
    return () => clearInterval(t);
  }, [sweeping]);

  async function drop() {
    // Ask the simulator to cut the socket after its next result, then clear the fault.
    await fetch("/__sim/realtime/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ drop_after: 1 }) });
    send();
    setTimeout(() => fetch("/__sim/realtime/faults", { method: "DELETE" }), 150);
  }

  const d = rt.detail;
  const image = rt.lastResult?.images?.[0]?.url;
  return (
    <section className="card" id="realtime">
      <h2>Realtime</h2>
      <p className="hint">Drag the slider, or sweep it at ~15 inputs/s. Try dropping the socket: it comes back by itself, and the newest input is sent again.</p>
      <div className="rt-grid">
        <div>
          <label>Prompt <input id="rt-prompt" value={prompt} onChange={(e) => { setPrompt(e.target.value); send({ prompt: e.target.value }); }} /></label>
          <label>Seed <input id="rt-seed" type="range" min={0} max={1000} value={seed} onChange={(e) => { setSeed(Number(e.target.value)); send({ seed: Number(e.target.value) }); }} /></label>
          <div className="row">
            <button id="rt-sweep" type="button" className="secondary" onClick={() => setSweeping((s) => !s)}>{sweeping ? "Stop" : "Sweep"}</button>
            <button id="rt-drop" type="button" className="secondary" onClick={drop}>Drop the socket</button>
            <button id="rt-reconnect" type="button" className="secondary" onClick={rt.reconnect}>Reconnect</button>
          </div>
          <p className="status-line">Socket: <span id="rt-status" className={`pill ${rt.status}`}>{rt.status}{d.delayMs ? ` (attempt ${d.attempt}, ${Math.round(d.delayMs)} ms)` : ""}</span>
            <span id="rt-counts">{counts.sent} inputs, {counts.received} results</span></p>
          <ol id="rt-log" className="events">{events.map((e, i) => <li key={i}>{e}</li>)}</ol>
        </div>
        <img id="rt-image" alt="realtime result" width={256} height={256} {...(image ? { src: image } : {})} />
      </div>
    </section>
  );
}
