// Types of `diagnose` (js/diagnose.js), re-exported by index.d.ts.

/** Which item of the integration checklist a check covers. */
export type DiagnoseCheckId = "proxy" | "key" | "statuses" | "allowlist" | "schemas" | "uploads" | "streaming" | "realtime" | "clock" | "csp";

/** `fail` makes the report not ok; `warn` doesn't; `skip` says why it could not be checked. */
export type DiagnoseStatus = "pass" | "warn" | "fail" | "skip";

export interface DiagnoseCheck {
  id: DiagnoseCheckId;
  status: DiagnoseStatus;
  /** What was checked, e.g. "Proxy adds the API key". */
  title: string;
  /** What was seen: the request made and the answer, in a sentence or two. Never a key or token. */
  detail: string;
  /** What to do, concretely (a file, an export, a header, a setting); for a skip, how to have it checked. `null` on a pass. */
  fix: string | null;
  /** Time the check took. */
  ms: number;
}

export interface DiagnoseReport {
  /** No check failed (warnings and skips allowed). */
  ok: boolean;
  /** In the order proxy, key, allowlist, streaming, realtime, clock, csp; only those run. */
  checks: DiagnoseCheck[];
  counts: Record<DiagnoseStatus, number>;
  /** The proxy route that was checked. */
  proxyUrl: string;
  /** Time the whole diagnosis took. */
  ms: number;
  /** Every check, one block each, for `console.log(report.text)`. */
  text: string;
}

export interface DiagnoseStreamingJob {
  /** The endpoint of the job whose status stream is watched, e.g. "fal-ai/fast-sdxl". */
  endpoint: string;
  /** Submits one job with this input (on the real fal, a paid job: pick a cheap one); cancelled as soon as the stream is seen to be live. */
  input?: Record<string, unknown>;
  /** Or watches a job that is already running, at no cost. Exactly one of `input` and `requestId`. */
  requestId?: string;
  /** Time limit of this check. Default: `max(timeoutMs, 60000)`. */
  timeoutMs?: number;
}

export interface DiagnoseOptions {
  /** Only these checks (default: all). */
  checks?: DiagnoseCheckId[];
  /** Time limit of each check in ms (default 10000); one that runs out is a `fail`. */
  timeoutMs?: number;
  /** Aborts every check; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The endpoint whose queue the key probe asks for a made-up request id (default "fal-ai/flux/dev"; costs nothing). */
  endpoint?: string;
  /** A job to watch for the streaming check; without it that check is skipped (fal has no free event stream). */
  streaming?: DiagnoseStreamingJob;
  /** A realtime app to open a socket to (token through the proxy, no input sent); without it that check is skipped. */
  realtimeEndpoint?: string;
  /** Path of the realtime socket under the endpoint (default "/realtime"). */
  realtimePath?: string;
  /** The app's own token source, if it uses one instead of the proxy's rest.fal.ai/tokens/. */
  tokenProvider?: (app: string) => Promise<string> | string;
  /** A clock further off the server's Date than this is a warning (default 5000). */
  maxClockSkewMs?: number;
}

/**
 * Runs the integration checklist against the app's proxy (and realtime server) from this page.
 * Never rejects for a failing check; rejects only for bad arguments (a GenwireError of kind `config`) or an abort.
 */
export function diagnose(
  clientOptions?: { proxyUrl?: string; realtimeUrl?: string; [option: string]: unknown },
  opts?: DiagnoseOptions,
): Promise<DiagnoseReport>;
