// Types of the genwire JS API.
import type { DiagnoseOptions, DiagnoseReport } from "./diagnose.js";
export type { DiagnoseOptions, DiagnoseReport, DiagnoseCheck, DiagnoseCheckId, DiagnoseStatus, DiagnoseStreamingJob } from "./diagnose.js";

/** Loads the wasm module ahead of the first call, or from a location of your choosing. */
export function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;

export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** Backoff base; the n-th retry waits a random time up to `baseDelayMs * 2^n`. Default 500. */
  baseDelayMs?: number;
  /** Ceiling of that backoff. Default 10000. */
  maxDelayMs?: number;
  /** A server-named wait longer than this is surfaced (with `retryAfterMs`) instead of waited out. Default 60000. */
  maxRetryAfterMs?: number;
  /** Retries the client may make in a burst; each success earns half a retry back. Default 10. */
  budget?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive service failures (5xx, timeouts, network, 429) that open an endpoint's circuit. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before one trial request goes out. Default 30000. */
  openMs?: number;
}

export interface FileLimits {
  /** Bytes. */
  maxSize?: number;
  minWidth?: number;
  minHeight?: number;
  maxWidth?: number;
  maxHeight?: number;
  /** MIME types; `image/*` wildcards allowed. */
  types?: string[];
}

export interface ClientOptions {
  /** The app's proxy route. Default `/api/fal/proxy`. */
  proxyUrl?: string;
  /**
   * Validate inputs against the endpoint's schema before sending (default true). The schema is
   * loaded once per endpoint through the proxy from fal's public OpenAPI URL, unless given here.
   */
  validation?: boolean;
  /** Schemas by endpoint id: an OpenAPI document or JSON schema, or a URL to one. */
  schemas?: Record<string, object | string>;
  /** Where realtime sockets connect. Default `wss://fal.run`. */
  realtimeUrl?: string;
  /** Limits of file fields, by endpoint id then field name: Files and Blobs there are checked before sending. */
  fileLimits?: Record<string, Record<string, FileLimits>>;
  /** The retry policy of every call; `false` turns retries off. */
  retry?: RetryOptions | false;
  /** Per-endpoint circuit breaker; `false` turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** Called with every attempt, retry, error, success and breaker change. */
  onEvent?: (event: GenwireEvent) => void;
  /** Where `client.jobs` keeps jobs in flight (for resuming after a reload). */
  jobs?: JobsOptions;
  /**
   * The app's own headers on every request through the proxy (a session for your own proxy route).
   * Key-like names (`Authorization`, `x-fal-key`, `x-api-key`, `Cookie`, …), values shaped like a fal key
   * and genwire's own headers (`x-fal-target-url`, `accept`, `content-type`) are refused.
   */
  headers?: Record<string, string>;
  /** The fetch every request goes through (status streams and upload parts included). Default: the global `fetch`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /**
   * Called before each request made with fetch (@fal-ai/client's `requestMiddleware`; upload PUTs go by
   * XMLHttpRequest unless `fetch` is given): sees the upstream `url` and the
   * `method`, and may add, replace or remove headers, by changing `request.headers` or returning
   * `{ headers }` (async allowed), under the rules of `headers`. A refused change is a `config` error.
   */
  onRequest?: (request: OutgoingRequest) => void | { headers?: Record<string, string> } | Promise<void | { headers?: Record<string, string> }>;
  /** Called with each answer's status and headers (observes; genwire reads the body itself). */
  onResponse?: (response: IncomingResponse) => void;
  /** Refused: keys never belong in a browser. Passing any of these throws. */
  credentials?: never;
  apiKey?: never;
  key?: never;
}

/** What `onRequest` sees: the upstream URL (what `x-fal-target-url` names), the method, every header genwire sends. */
export interface OutgoingRequest {
  readonly url: string;
  readonly method: string;
  headers: Record<string, string>;
}
/** What `onResponse` sees. */
export interface IncomingResponse {
  readonly url: string;
  readonly method: string;
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
}

/** What every call takes besides its own options. */
export interface CallOptions {
  signal?: AbortSignal;
  /** @fal-ai/client's name for `signal`; both only when they are the same signal. */
  abortSignal?: AbortSignal;
  /** This call's own headers (on each of its requests through the proxy), under the rules of the client's `headers`. */
  headers?: Record<string, string>;
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

/** How long fal keeps a stored file: a preset, or whole seconds (at least 1). `never`: no expiry is sent. */
export type ObjectExpiration = "never" | "immediate" | "1h" | "1d" | "7d" | "30d" | "1y" | number;
export type StorageACLDecision = "hide" | "forbid" | "allow";
export interface StorageACLRule { user: string; decision: StorageACLDecision }
export interface StorageACL { default?: StorageACLDecision; rules?: StorageACLRule[] }
/**
 * fal's object lifecycle (as `@fal-ai/client`'s `StorageSettings`): sent as `x-fal-object-lifecycle-preference`
 * on submit/subscribe/run (the job's outputs) and `X-Fal-Object-Lifecycle` on an upload's initiate.
 * Unknown fields and bad values are `config` errors naming the field.
 */
export interface StorageSettings {
  expiresIn?: ObjectExpiration;
  initialAcl?: StorageACL;
}

export interface SubmitOptions<Input = Record<string, unknown>> extends CallOptions {
  /** Files, Blobs and byte arrays anywhere in it are uploaded first and replaced by their URLs. */
  input?: Input;
  /** The lifecycle of the job's outputs (expiry, ACL). */
  storageSettings?: StorageSettings;
  /** Validate this input before sending; default: the client's `validation`. */
  validate?: boolean;
  /** Called back by the queue when the job ends (fal's `fal_webhook`). */
  webhookUrl?: string;
  priority?: "normal" | "low";
  /** Seconds (more than 1) the job may wait in the queue before it starts; then it ends with a 504 that is not retried (`x-fal-request-timeout`). */
  startTimeout?: number;
  hint?: string;
  /** Milliseconds for the whole call (checks, uploads, retries); on expiry it rejects with kind `timeout`. A job may have been queued. */
  timeout?: number;
}

/** How a job's statuses are followed to its result: `subscribe`'s, `subscribeToStatus`'s and `streamStatus`'s. */
export interface StatusOptions {
  /** Include logs in status updates: each update carries every line so far, in order, once each. Default false. */
  logs?: boolean;
  /** Every change of the job's status, in order, once each. */
  onQueueUpdate?: (status: QueueStatus) => void;
  /** `streaming` (default) falls back to polling by itself when the stream fails. */
  mode?: "streaming" | "polling";
  /** Milliseconds between status polls. Default 500. */
  pollInterval?: number;
  /** Milliseconds without a byte on the stream (keep-alives count) before polling takes over. Default 35000 (fal sends a keep-alive every 15 s). */
  streamStallTimeout?: number;
}

export interface SubscribeOptions<Input = Record<string, unknown>> extends SubmitOptions<Input>, StatusOptions {
  /** Milliseconds for the whole call; on expiry the job is cancelled upstream and the call rejects. */
  timeout?: number;
  /** Called once with the job's request id when the queue accepts it, before any `onQueueUpdate`. */
  onEnqueue?: (requestId: string) => void;
  /** Whether an abort (the signal) cancels the job upstream. Default true: the call submitted it. */
  cancelOnAbort?: boolean;
}

export interface StreamOptions<Input = Record<string, unknown>> {
  /** Files, Blobs and byte arrays anywhere in it are uploaded first and replaced by their URLs. */
  input?: Input;
  /** Validate this input before sending; default: the client's `validation`. */
  validate?: boolean;
  signal?: AbortSignal;
  /** @fal-ai/client's name for `signal`. */
  abortSignal?: AbortSignal;
  /** This call's own headers (on its request through the proxy), under the rules of the client's `headers`. */
  headers?: Record<string, string>;
  /** Milliseconds (at least 10) without a byte before the stream ends with a `timeout` error (`stalled: true`). Default 35000. */
  stallTimeout?: number;
  /**
   * `@fal-ai/client`'s name for `stallTimeout`: the longest silence between chunks, not a bound on
   * the whole stream (a long stream that keeps sending runs on). Both at once must be the same
   * value. To bound the whole stream, pass `signal: AbortSignal.timeout(ms)`.
   */
  timeout?: number;
}

/**
 * An output stream: an async iterator of partial outputs (parsed events; `Uint8Array` chunks of a
 * binary answer). It has one reader: partials are kept until the iterator takes them. A mid-stream
 * error is thrown by the iterator once; after `abort()` (or a `break`) it ends quietly.
 */
export interface OutputStream<Output = any> extends AsyncIterable<Output> {
  /** The final output: the last partial when the body ends. Rejects with the stream's `GenwireError` (`aborted` after `abort()`). */
  done(): Promise<Output>;
  /** Stops the request; a no-op once the stream ended. */
  abort(reason?: unknown): void;
  /** The answer's `x-fal-request-id`; null until the answer is in. */
  readonly requestId: string | null;
  on(type: "data", listener: (partial: Output) => void): void;
  on(type: "done", listener: (output: Output) => void): void;
  on(type: "error", listener: (error: GenwireError) => void): void;
}

/** `queue.subscribeToStatus` and `queue.streamStatus`: a job already submitted, followed by its id. */
export interface FollowOptions extends CallOptions, StatusOptions {
  requestId: string;
  /** Milliseconds for the whole call; on expiry the job is cancelled upstream (as fal's client does) and the call rejects. */
  timeout?: number;
  /** Whether an abort cancels the job upstream. Default false: following a job doesn't own it. */
  cancelOnAbort?: boolean;
}

/**
 * `queue.streamStatus`: a job's statuses, as an async iterator that ends after COMPLETED. `break`
 * (or `abort()`) closes the stream and stops polling; the job runs on. An error is thrown by the
 * iteration, typed.
 */
export interface StatusStream extends AsyncIterableIterator<QueueStatus> {
  readonly requestId: string;
  /** The COMPLETED status; rejects with the GenwireError that ended the stream. */
  done(): Promise<CompletedStatus>;
  abort(): void;
}

/** A job kept by `client.jobs`. */
export interface StoredJob {
  endpoint: string;
  requestId: string;
  /** `Date.now()` when it was submitted. */
  submittedAt: number;
  /** Who follows it (`useGeneration`'s `resumeKey`); default the endpoint. */
  key: string;
}

/** What `client.jobs` keeps its entries in: `sessionStorage`'s shape (sync or async). */
export interface JobStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export interface JobsOptions {
  /** `session` (default: `sessionStorage`), `local`, `memory`, or the app's own store. Unusable storage falls back to memory. */
  storage?: "session" | "local" | "memory" | JobStorage;
  /** The storage key. Default `genwire:jobs`. */
  key?: string;
  /** Entries older than this are dropped unread. Default a day (86400000). */
  maxAgeMs?: number;
}

/** Jobs in flight kept across reloads, to be followed again with `queue.subscribeToStatus`. */
export interface JobStore {
  /** Resolves once an async store was read (at once for `sessionStorage`). */
  readonly ready: Promise<void>;
  /** Entries younger than `maxAgeMs`; older and corrupt ones are dropped. */
  list(filter?: { endpoint?: string; key?: string }): StoredJob[];
  add(job: { endpoint: string; requestId: string; submittedAt?: number; key?: string }): StoredJob;
  remove(requestId: string): void;
  clear(): void;
  /** `client.subscribe`, the job stored from `onEnqueue` until its result or error is delivered; an abort lets it run on (`cancelOnAbort: false`). */
  subscribe<Output = any, Input = Record<string, unknown>>(endpoint: string, options: SubscribeOptions<Input> & { jobKey?: string }): Promise<Result<Output>>;
  /** Follows every stored job again; each entry is forgotten once its result or error is delivered. */
  resume<Output = any>(filter?: { endpoint?: string; key?: string }, options?: Omit<FollowOptions, "requestId">): Array<StoredJob & { result: Promise<Result<Output>> }>;
}

export interface RequestOptions extends CallOptions {
  requestId: string;
  /** Milliseconds for the call, retries included; on expiry it rejects with kind `timeout`. */
  timeout?: number;
}

export interface RunOptions<Input = Record<string, unknown>> extends CallOptions {
  input?: Input;
  validate?: boolean;
  /** Seconds (more than 1) the run may wait before it starts (`x-fal-request-timeout`). */
  startTimeout?: number;
  /** Milliseconds for the whole call; on expiry it rejects with kind `timeout` (the run may still complete upstream). */
  timeout?: number;
  /** The lifecycle of the outputs (expiry, ACL). */
  storageSettings?: StorageSettings;
}

/** What a UI does about an error. */
export type ErrorCategory =
  | "validation" | "content_policy" | "auth" | "forbidden" | "not_found" | "rate_limited" | "timeout"
  | "unavailable" | "server" | "network" | "aborted" | "cancelled" | "circuit_open" | "bad_request"
  | "config" | "unknown";

/** `ctx` of a field issue, typed per the server's error types (seed 001). */
export interface IssueCtxByType {
  greater_than: { gt: number };
  greater_than_equal: { ge: number };
  less_than: { lt: number };
  less_than_equal: { le: number };
  multiple_of: { multiple_of: number };
  sequence_too_short: { min_length: number };
  sequence_too_long: { max_length: number };
  one_of: { expected: unknown[] };
  image_too_small: { min_height: number; min_width: number };
  image_too_large: { max_height: number; max_width: number };
  file_too_large: { max_size: number };
  invalid_archive: { supported_extensions: string[] };
  archive_file_count_below_minimum: { min_count: number; provided_count: number; supported_extensions: string[] };
  archive_file_count_exceeds_maximum: { max_count: number; provided_count: number; supported_extensions: string[] };
  content_policy_violation: undefined;
  image_load_error: undefined;
  file_download_error: undefined;
  face_detection_error: undefined;
  feature_not_supported: undefined;
  missing: undefined;
  extra_forbidden: undefined;
  string_type: undefined;
  int_type: undefined;
  int_from_float: undefined;
  float_type: undefined;
  bool_type: undefined;
  list_type: undefined;
  dict_type: undefined;
  /** pydantic's own types that fal passes through unrenamed (docs/validation-rules.md). */
  int_parsing_size: undefined;
  string_unicode: undefined;
  none_required: undefined;
  url_type: undefined;
  url_parsing: { error: string };
  url_scheme: { expected_schemes: string };
  invalid_url: { scheme: "path" | "file" | "blob" };
  unsupported_file_type: { supported_types: string[] };
}

interface IssueBase {
  /** Where, as the server says it: `["body", "image_size", "width"]`. */
  loc: (string | number)[];
  /** The input path without `body` (and, from client-side validation, without union labels):
   * `image_size.width`, `images[0]`; "" for the whole input. */
  field: string;
  /** A sentence for people. */
  msg: string;
  input?: unknown;
  url?: string;
  /** A suggestion beyond the server's message (client-side validation). */
  hint?: string;
}
export type KnownFieldIssue = {
  [T in keyof IssueCtxByType]: IssueBase & { type: T; ctx?: IssueCtxByType[T] };
}[keyof IssueCtxByType];
/**
 * A field issue; `switch (issue.type)` narrows `ctx`. Error types the server adds later
 * still arrive, unchanged, in the `default` branch (shape: `OtherFieldIssue`); they are
 * left out of this union because an open `string` member would stop TypeScript narrowing.
 */
export type FieldIssue = KnownFieldIssue;
export type OtherFieldIssue = IssueBase & { type: string; ctx?: Record<string, unknown> };

interface ErrorBase extends Error {
  name: "GenwireError";
  /** Where it was found: an HTTP answer, or genwire's own checks (validation before sending). */
  source?: "server" | "client";
  category: ErrorCategory;
  /** Whether repeating the same request may succeed (the server's `X-Fal-Retryable` first). */
  retryable: boolean;
  /** How long the server asked to wait before trying again. */
  retryAfterMs?: number;
  /** Field issues; non-empty for `validation`. */
  issues: FieldIssue[];
  /** Attempts made, retries included, when the call gave up. */
  attempts?: number;
  cause?: unknown;
}

/** The input was refused: `issues` says which fields and why. */
export interface ValidationError extends ErrorBase {
  kind: "validation";
  status?: number;
  requestId?: string;
  errorType?: string;
  docsUrl?: string;
  body?: unknown;
}
/** Any other HTTP error answer (fal's request errors, other APIs, gateways). */
export interface ApiError extends ErrorBase {
  kind: "api";
  status: number;
  requestId?: string;
  /** fal's machine-readable type: `X-Fal-Error-Type`, the body's `error_type`, or a model error's `type`. */
  errorType?: string;
  docsUrl?: string;
  /** `user` when the request's own timeout (`startTimeout`) expired. */
  timeoutType?: string;
  /** The body as sent: parsed JSON, else text (cut at 64 KiB, see `truncated`). */
  body?: unknown;
  truncated?: boolean;
}
export interface NetworkError extends ErrorBase { kind: "network" }
export interface TimeoutError extends ErrorBase { kind: "timeout"; timeoutMs?: number; /** An output stream: silent too long (true), or past its deadline (false). */ stalled?: boolean }
export interface AbortedError extends ErrorBase { kind: "aborted" }
/** The endpoint failed repeatedly; nothing was sent. Try again after `retryAfterMs`. */
export interface CircuitOpenError extends ErrorBase { kind: "circuit_open"; endpoint: string; reopensAt: number; retryAfterMs: number }
/** A mistake in the call: bad option, endpoint id, or a key in the browser. */
export interface ConfigError extends ErrorBase { kind: "config" }
/** A 2xx answer that breaks the protocol. */
export interface ProtocolError extends ErrorBase { kind: "protocol"; body?: unknown }

/** What every genwire call rejects with; `switch (error.kind)` narrows it. */
export type GenwireError =
  | ValidationError | ApiError | NetworkError | TimeoutError | AbortedError | CircuitOpenError | ConfigError | ProtocolError;
export type ErrorKind = GenwireError["kind"];

/**
 * Decodes an error answer of the app's own fetches: `await decodeError(response)`, or at once
 * `decodeError({ status, headers, body })` / `decodeError(thrownFetchError)` (after `await init()`).
 */
export function decodeError(response: Response): Promise<GenwireError>;
export function decodeError(answer: { status: number; headers?: Headers | Record<string, string>; body?: unknown }): GenwireError;
export function decodeError(thrown: unknown): GenwireError;

/** What a request is: the queue's calls, a run, an upload's requests, a schema load, a realtime token (and `validate`, a refusal before sending). */
export type CallName = "submit" | "status" | "result" | "cancel" | "run" | "upload" | "schema" | "token" | "stream" | "validate";
interface EventBase { at: number }
export type GenwireEvent =
  | (EventBase & { type: "attempt"; call: CallName; endpoint: string; attempt: number; url: string })
  | (EventBase & { type: "success"; call: CallName; endpoint: string; attempt: number; latencyMs: number })
  | (EventBase & { type: "retry"; call: CallName; endpoint: string; attempt: number; delayMs: number; serverNamed: boolean; error: GenwireError })
  | (EventBase & {
      type: "error"; call: CallName; endpoint: string; attempt: number; error: GenwireError;
      reason?: "not_retryable" | "may_have_enqueued" | "attempts" | "budget" | "wait_too_long";
    })
  | (EventBase & { type: "breaker"; endpoint: string; from: BreakerState; to: BreakerState; reopensAt?: number })
  | (EventBase & { type: "schema"; endpoint: string; error: GenwireError });
export type BreakerState = "closed" | "open" | "half_open";

export interface ClientStats {
  windowMs: number;
  calls: number;
  successes: number;
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  retries: number;
  /** `[type, count]`, most frequent first. */
  errorsByType: [string, number][];
  /** Endpoints with recent failures; a healthy endpoint is absent. */
  breakers: Record<string, { state: BreakerState; reopensAt?: number }>;
  retryBudget: number | null;
}

export interface QueueClient {
  submit<Input = Record<string, unknown>>(endpoint: string, options: SubmitOptions<Input>): Promise<InQueueStatus>;
  status(endpoint: string, options: RequestOptions & { logs?: boolean }): Promise<QueueStatus>;
  result<Output = any>(endpoint: string, options: RequestOptions): Promise<Result<Output>>;
  cancel(endpoint: string, options: RequestOptions): Promise<unknown>;
  /** Follows a job already submitted (by a server, before a reload) like `subscribe`; resolves with its result. */
  subscribeToStatus<Output = any>(endpoint: string, options: FollowOptions): Promise<Result<Output>>;
  /** The job's statuses as an async iterator (`for await`), ending after COMPLETED. */
  streamStatus(endpoint: string, options: FollowOptions): StatusStream;
}

/**
 * The app's endpoints and their types, for inference by endpoint id. Empty here; augment it:
 * ```ts
 * declare module "genwire" {
 *   interface Endpoints { "fal-ai/flux/dev": { input: FluxInput; output: FluxOutput } }
 * }
 * ```
 * Then `client.subscribe("fal-ai/flux/dev", { input })` checks `input` and types `data`, and so do the hooks.
 */
export interface Endpoints {}
/** The input type of an endpoint id: from `Endpoints`, else an open record. */
export type InputOf<E extends string> = E extends keyof Endpoints ? Endpoints[E] extends { input: infer I } ? I : Record<string, unknown> : Record<string, unknown>;
/** `E` itself, or `never` for an id listed in `Endpoints` (so the untyped overloads can't take a typed id). */
export type Unlisted<E extends string> = E extends keyof Endpoints ? never : E;
/** The output type of an endpoint id: from `Endpoints`, else `any`. */
export type OutputOf<E extends string> = E extends keyof Endpoints ? Endpoints[E] extends { output: infer O } ? O : any : any;

export interface GenwireClient {
  readonly proxyUrl: string;
  readonly queue: QueueClient;
  /** Jobs in flight kept across reloads (`sessionStorage` by default). */
  readonly jobs: JobStore;
  subscribe<E extends keyof Endpoints & string>(endpoint: E, options: SubscribeOptions<InputOf<E>>): Promise<Result<OutputOf<E>>>;
  subscribe<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options: SubscribeOptions<Input>): Promise<Result<Output>>;
  run<E extends keyof Endpoints & string>(endpoint: E, options: RunOptions<InputOf<E>>): Promise<Result<OutputOf<E>>>;
  run<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options: RunOptions<Input>): Promise<Result<Output>>;
  /** `POST fal.run/{endpoint}/stream` through the proxy; see `OutputStream`. */
  stream<E extends keyof Endpoints & string>(endpoint: E, options: StreamOptions<InputOf<E>>): OutputStream<OutputOf<E>>;
  stream<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options: StreamOptions<Input>): OutputStream<Output>;
  /** The input's issues by the endpoint's schema, without sending it; rejects when no schema can be had, or with kind `aborted` when the signal aborts first. */
  validate(endpoint: string, input: unknown, options?: { signal?: AbortSignal; abortSignal?: AbortSignal }): Promise<FieldIssue[]>;
  readonly storage: {
    upload(data: Blob | File | ArrayBuffer | ArrayBufferView, options?: UploadOptions): Promise<string>;
  };
  readonly realtime: {
    connect<Output = any, Input = Record<string, unknown>>(endpoint: string, options?: RealtimeOptions<Output>): RealtimeConnection<Input>;
    /** What genwire holds right now (connections, sockets, and the listeners and timers of all it does); all zero once every connection is closed and no call is in flight. */
    debug(): { connections: number; sockets: number; listeners: number; timers: number };
  };
  /** Listens to events; returns the unsubscribe function. */
  on(listener: (event: GenwireEvent) => void): () => void;
  /** Rolling summary of the last five minutes. */
  stats(): ClientStats;
  /**
   * The check `genwire/react`'s hooks run on their options before they start anything (`hook`:
   * `"useGeneration"`, `"useStream"`, `"useRealtime"`, `"useUpload"`, `"useValidation"`): resolves,
   * or rejects with the `config` GenwireError the hook's call gives for the same mistake.
   */
  checkHook(hook: string, options: unknown): Promise<void>;
  /**
   * Runs the integration checklist (proxy reachable, key added, allowlist, unbuffered streaming,
   * realtime with a token, clock skew, wasm CSP); never rejects for a failing check.
   */
  diagnose(options?: DiagnoseOptions): Promise<DiagnoseReport>;
}

export function createClient(options?: ClientOptions): GenwireClient;

export interface UploadProgress {
  loaded: number;
  total: number;
  /** 0..1; only ever rises, and ends at 1. */
  fraction: number;
}

export interface UploadOptions {
  contentType?: string;
  fileName?: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
  /** @fal-ai/client's name for `signal`. */
  abortSignal?: AbortSignal;
  /** Bytes above which the file goes in 10 MiB parts. Default 90 MiB, as in fal's own client (the default `@fal-ai/server-proxy` allowlist refuses multipart). */
  multipartThreshold?: number;
  /** The uploaded file's lifecycle (expiry, ACL): `X-Fal-Object-Lifecycle` on the initiate, as fal's own client sends it. */
  lifecycle?: StorageSettings;
}

export interface RealtimeStatus {
  status: "idle" | "connecting" | "open" | "reconnecting" | "offline" | "fallback" | "closed";
  /** Reconnection attempt, for `connecting` and `reconnecting`. */
  attempt?: number;
  /** The wait before that attempt, for `reconnecting`. */
  delayMs?: number;
}

export interface RealtimeOptions<Output = any> {
  /** Connections with the same key share one socket (reference-counted; the last close frees it). */
  connectionKey?: string;
  /** Milliseconds between two sends; the newest input wins. Default 128; 0 sends everything. */
  throttleInterval?: number;
  onResult?: (result: Output) => void;
  onError?: (error: GenwireError) => void;
  onStatus?: (status: RealtimeStatus) => void;
  /** Pending inputs fal keeps for this socket: a whole number from 1 to 60 (else a config error). */
  maxBuffering?: number;
  /** Inputs kept while not connected, newest first. Default 1. */
  bufferSize?: number;
  /** Frames out: msgpack (binary stays binary), JSON, or your own. Default msgpack. */
  codec?: "msgpack" | "json" | { encode(input: unknown): string | ArrayBuffer | Uint8Array; decode(data: string | ArrayBuffer): unknown };
  reconnect?: {
    baseDelayMs?: number; maxDelayMs?: number; minUptimeMs?: number; maxAttempts?: number;
    /** Failed opens in a row before inputs go through the queue instead. Default 3. */
    fallbackAfter?: number;
    /** In fallback, how long before the socket is tried again. Default 30000. */
    fallbackRetryMs?: number;
  };
  /** Your own token source, given the app's full realtime path (`"fal-ai/fast-lcm-diffusion/realtime"`, as fal's own client passes it); default: fal's token endpoint through the proxy. */
  tokenProvider?: (app: string) => string | Promise<string>;
  /** Seconds a token lives (at least 10): asked of fal's token endpoint, or what your `tokenProvider`'s tokens live; refreshed at 90%. Default 120. */
  tokenExpirationSeconds?: number;
  /** Socket path after the endpoint id. Default `/realtime`, unless the id already ends in `/realtime`. */
  path?: string;
}

export interface RealtimeConnection<Input = Record<string, unknown>> {
  readonly status: RealtimeStatus;
  /**
   * Throttled, newest wins; kept and sent after a reconnect. Throws a `GenwireError` once the
   * connection is closed: after a fatal close (1008/1011, a refused token, attempts used up) that
   * error, saying to call `reconnect()`; after `close()`, one of kind `config`.
   */
  send(input: Input): void;
  close(): void;
  /** Reconnects now, the backoff started over; after a fatal close, a new connection with this handle's options. */
  reconnect(): void;
}

/** Checks an input against a schema without a client or request (after `await init()`). */
export function validate(schema: object, input: unknown, endpoint?: string): FieldIssue[];
