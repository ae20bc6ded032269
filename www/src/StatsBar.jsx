// Live client stats: calls, success rate, latency and retries of the last five minutes.
import { useClientStats } from "genwire/react";

const ms = (v) => (v == null ? "–" : `${Math.round(v)} ms`);

export function StatsBar() {
  const s = useClientStats(1000);
  const items = [
    ["calls", s?.calls ?? 0],
    ["success", s?.successRate == null ? "–" : `${Math.round(s.successRate * 100)}%`],
    ["p50", ms(s?.latencyP50Ms)],
    ["p95", ms(s?.latencyP95Ms)],
    ["retries", s?.retries ?? 0],
  ];
  return (
    <dl id="stats" className="stats" aria-label="client stats, last five minutes">
      {items.map(([k, v]) => <div key={k}><dt>{k}</dt><dd data-stat={k}>{v}</dd></div>)}
    </dl>
  );
}
