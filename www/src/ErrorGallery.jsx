// The error gallery: the simulated upstream answers with real errors from fal's documents (or a
// gateway's), and the typed GenwireError drives the UI: fields, message, retry and when.
import { useEffect, useState } from "react";
import { createClient } from "genwire";
import { GenwireProvider, useGenwire } from "genwire/react";

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
const MOCK = [["prompt", "a cat"], ["image_size", "1920x1080"], ["num_inference_steps", "0"], ["guidance_scale", "21"], ["image_url", "/tmp/cat.png"], ["scheduler", "InvalidScheduler"]];

// Its own client: no retries (the gallery shows each error as it comes), a breaker that opens fast.
const galleryClient = createClient({ retry: false, circuitBreaker: { failureThreshold: 3, openMs: 8000 } });

export function ErrorGallery() {
  return <GenwireProvider client={galleryClient}><Gallery /></GenwireProvider>;
}

function Countdown({ until, why, onDone }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(t);
  }, []);
  const ms = until - now;
  useEffect(() => { if (ms <= 0) onDone(); }, [ms <= 0]);
  return <p className="countdown">{ms > 0 ? `Retry in ${(ms / 1000).toFixed(1)} s (${why})` : "You can retry now."}</p>;
}

/** What a UI shows for one error: switch on `kind`, use `category`, `retryable`, `retryAfterMs`. */
function ErrorView({ error, onRetry }) {
  const [until] = useState(() => (error.retryAfterMs ? Date.now() + error.retryAfterMs : 0));
  const [waiting, setWaiting] = useState(until > Date.now());
  let advice;
  switch (error.kind) {
    case "validation": advice = "Fix the highlighted fields and send again."; break;
    case "circuit_open": advice = `fal-ai/flux failed repeatedly: nothing was sent. It is tried again after the pause.`; break;
    case "api": advice = error.category === "auth" ? "The proxy's key was refused: check FAL_KEY on the server." : error.retryable ? "A passing problem upstream." : "This request won't succeed as it is."; break;
    case "network": advice = "Check the connection."; break;
    default: advice = "";
  }
  const details = [["status", error.status], ["errorType", error.errorType], ["requestId", error.requestId], ["docs", error.docsUrl]].filter(([, v]) => v !== undefined);
  return (
    <>
      <div className="title">
        <span className="pill">{error.kind}</span><span className="pill">{error.category}</span>
        <span className={`pill ${error.retryable ? "retry" : "final"}`}>{error.retryable ? "can retry" : "final"}</span>
      </div>
      <p className="message">{error.message}</p>
      {advice && <p className="hint">{advice}</p>}
      {error.retryable && waiting && <Countdown until={until} why={error.kind === "circuit_open" ? "the breaker lets a trial through then" : "the server asked to wait"} onDone={() => setWaiting(false)} />}
      {error.retryable && <button type="button" className="secondary" disabled={waiting} onClick={onRetry}>Retry</button>}
      {details.length > 0 && <dl>{details.map(([k, v]) => <div key={k} className="kv"><dt>{k}</dt><dd>{String(v)}</dd></div>)}</dl>}
    </>
  );
}

function Gallery() {
  const client = useGenwire();
  const [breaker, setBreaker] = useState({ state: "closed" });
  const [events, setEvents] = useState([]);
  const [shown, setShown] = useState(null); // { example, error, n }

  useEffect(() => client.on((e) => {
    if (e.type === "breaker") setBreaker({ state: e.to, reopensAt: e.reopensAt });
    if (e.type === "attempt" || e.type === "success") return;
    const text = `${new Date(e.at).toLocaleTimeString()} ${e.type}${e.call ? ` ${e.call}` : ""}${e.error ? `: ${e.error.kind}/${e.error.category}` : ""}${e.to ? `: ${e.from} → ${e.to}` : ""}`;
    setEvents((list) => [text, ...list].slice(0, 30));
  }), [client]);

  async function trigger(example) {
    const prompt = `gallery ${example} ${Date.now()}`;
    await fetch("/__sim/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt, faults: { submit_error: { example } } }) });
    let error = null;
    try {
      await client.subscribe("fal-ai/flux/dev", { input: { prompt } });
    } catch (e) {
      error = e;
    }
    setShown((s) => ({ example, error, n: (s?.n ?? 0) + 1 }));
    return error;
  }

  async function breakIt() {
    for (let i = 0; i < 3; i++) {
      const e = await trigger("seed002/runner_scheduling_failure");
      if (e?.kind === "circuit_open") return;
    }
    await trigger("seed002/runner_scheduling_failure"); // refused without a request: circuit_open
  }

  const issues = shown?.error?.issues ?? [];
  const issueOf = (field) => issues.find((i) => i.field.split(/[.[]/)[0] === field);
  const label = breaker.state === "open" && breaker.reopensAt ? `open until ${new Date(breaker.reopensAt).toLocaleTimeString()}` : breaker.state.replace("_", "-");
  return (
    <section className="card" id="errors">
      <h2>Every error, typed</h2>
      <p className="hint">Each button makes the simulated upstream answer with a real error from fal's documents, then runs the job. <code>switch (error.kind)</code> tells the UI which field, what to say, and whether and when to retry.</p>
      <div id="gallery-buttons" className="chips">
        {EXAMPLES.map(([text, example]) => <button key={example} type="button" data-example={example} onClick={() => trigger(example)}>{text}</button>)}
      </div>
      <div className="gallery-grid">
        <form id="mock-form" className="mock-form" aria-label="input with field issues">
          {MOCK.map(([field, value]) => {
            const issue = issueOf(field);
            return (
              <label key={field} data-field={field} className={issue ? "bad" : ""}>{field} <input value={value} readOnly />
                {issue && <span className="issue">{issue.msg}</span>}
              </label>
            );
          })}
        </form>
        <div id="error-view" className="error-view" aria-live="polite">
          {!shown && <p className="hint">Pick an error above.</p>}
          {shown && !shown.error && <p>No error: the job succeeded.</p>}
          {shown?.error && <ErrorView key={shown.n} error={shown.error} onRetry={() => trigger(shown.example)} />}
        </div>
      </div>
      <div className="breaker-line">Circuit breaker for <code>fal-ai/flux</code>: <span id="breaker-state" className={`pill breaker-${breaker.state}`}>{label}</span>
        <button id="break-it" type="button" className="secondary" onClick={breakIt}>Fail it 3 times</button></div>
      <ol id="events" className="events">{events.map((e, i) => <li key={i}>{e}</li>)}</ol>
    </section>
  );
}
