// The integration checklist as a report: client.diagnose() checks the proxy, its key, the target
// allowlist, unbuffered streaming, realtime with a token, the clock and the page's CSP.
import { useState } from "react";
import { useGenwire } from "genwire/react";

const ICONS = { pass: "✓", warn: "!", fail: "✗", skip: "–" };

export function Diagnose() {
  const client = useGenwire();
  const [report, setReport] = useState(null);
  const [running, setRunning] = useState(false);
  async function run() {
    setRunning(true);
    try {
      // On the simulator a job costs nothing, so the streaming check watches one; on the real fal,
      // pass a running job's `requestId` instead, or leave `streaming` out to skip it.
      setReport(await client.diagnose({
        realtimeEndpoint: "fal-ai/lcm-sd15-i2i",
        streaming: { endpoint: "fal-ai/flux/dev", input: { prompt: "diagnose: is the status stream live?" } },
      }));
    } finally {
      setRunning(false);
    }
  }
  return (
    <section className="card" id="diagnose">
      <h2>Diagnose the integration</h2>
      <p className="hint">One call, <code>await client.diagnose()</code>, runs the checklist of a fal integration from this page and says what to fix. Only the streaming check runs a job, and only when asked to.</p>
      <button id="diagnose-run" type="button" onClick={run} disabled={running}>{running ? "Checking…" : "Run the checks"}</button>
      {report && (
        <>
          <p id="diagnose-summary" className={report.ok ? "ok" : "bad"}>{report.ok ? "Everything this page can check is in order." : "Some checks need attention."}</p>
          <ul id="diagnose-checks" className="checks">
            {report.checks.map((c) => (
              <li key={c.id} data-check={c.id} className={c.status}>
                <span className="icon" aria-label={c.status}>{ICONS[c.status] ?? "?"}</span>
                <div>
                  <strong>{c.title}</strong> <span className="hint">{c.detail}</span>
                  {c.fix && c.status !== "pass" && <p className="fix">{c.fix}</p>}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
