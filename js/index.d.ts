// Types of the genwire JS API.

/** Loads the wasm module ahead of the first call, or from a location of your choosing. */
export function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;

export interface ClientOptions {
  /** The app's proxy route. Default `/api/fal/proxy`. */
  proxyUrl?: string;
  /** Refused: keys never belong in a browser. Passing any of these throws. */
  credentials?: never;
  apiKey?: never;
  key?: never;
}

export type QueuePhase = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

export interface RequestLog {
  message: string;
  level: "STDERR" | "STDOUT" | "ERROR" | "INFO" | "WARN" | "DEBUG";
  source: string;
  timestamp: string;
}

interface StatusBase {
  request_id: string;
  response_url: string;
  status_url: string;
  cancel_url: string;
  [extra: string]: unknown;
}
export interface InQueueStatus extends StatusBase { status: "IN_QUEUE"; queue_position: number }
export interface InProgressStatus extends StatusBase { status: "IN_PROGRESS"; logs?: RequestLog[] | null }
export interface CompletedStatus extends StatusBase {
  status: "COMPLETED";
  logs?: RequestLog[] | null;
  metrics?: { inference_time?: number | null };
  error?: string;
  error_type?: string;
}
export type QueueStatus = InQueueStatus | InProgressStatus | CompletedStatus;

export interface Result<Output = any> {
  data: Output;
  requestId: string;
}

export interface SubmitOptions<Input = Record<string, unknown>> {
  input?: Input;
  /** Called back by the queue when the job ends (fal's `fal_webhook`). */
  webhookUrl?: string;
  priority?: "normal" | "low";
  /** Seconds the job may wait to start before the queue gives up (`x-fal-request-timeout`). */
  startTimeout?: number;
  hint?: string;
  signal?: AbortSignal;
}

export interface SubscribeOptions<Input = Record<string, unknown>> extends SubmitOptions<Input> {
  /** Include logs in status updates. Default false. */
  logs?: boolean;
  /** Every change of the job's status, in order, once each. */
  onQueueUpdate?: (status: QueueStatus) => void;
  /** `streaming` (default) falls back to polling by itself when the stream fails. */
  mode?: "streaming" | "polling";
  /** Milliseconds between status polls. Default 500. */
  pollInterval?: number;
  /** Milliseconds without a byte on the stream (keep-alives count) before polling takes over. Default 15000. */
  streamStallTimeout?: number;
  /** Milliseconds for the whole call; on expiry the job is cancelled upstream and the call rejects. */
  timeout?: number;
}

export interface RequestOptions {
  requestId: string;
  signal?: AbortSignal;
}

export type ErrorKind = "config" | "api" | "network" | "protocol" | "timeout" | "aborted";

/** What every genwire call rejects with. `kind` says what went wrong. */
export interface GenwireError extends Error {
  name: "GenwireError";
  kind: ErrorKind;
  retryable: boolean;
  /** HTTP status, for `api` errors. */
  status?: number;
  /** The error body as sent, parsed when it was JSON. */
  body?: unknown;
  requestId?: string;
  /** fal's machine-readable error type (`X-Fal-Error-Type` or the body's `error_type`). */
  errorType?: string;
  timeoutMs?: number;
  cause?: unknown;
}

export interface QueueClient {
  submit<Input = Record<string, unknown>>(endpoint: string, options: SubmitOptions<Input>): Promise<InQueueStatus>;
  status(endpoint: string, options: RequestOptions & { logs?: boolean }): Promise<QueueStatus>;
  result<Output = any>(endpoint: string, options: RequestOptions): Promise<Result<Output>>;
  cancel(endpoint: string, options: { requestId: string }): Promise<unknown>;
}

export interface GenwireClient {
  readonly proxyUrl: string;
  readonly queue: QueueClient;
  subscribe<Output = any, Input = Record<string, unknown>>(endpoint: string, options: SubscribeOptions<Input>): Promise<Result<Output>>;
  run<Output = any, Input = Record<string, unknown>>(endpoint: string, options: { input?: Input; signal?: AbortSignal }): Promise<Result<Output>>;
}

export function createClient(options?: ClientOptions): GenwireClient;
