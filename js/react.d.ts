// Types of genwire/react.
import type { ReactNode, ReactElement } from "react";
import type {
  Unlisted, ClientOptions, ClientStats, Endpoints, FieldIssue, GenwireClient, GenwireError, InputOf, OutputOf, QueueStatus,
  RealtimeOptions, RealtimeStatus, RequestLog, StreamOptions, SubscribeOptions, UploadOptions, UploadProgress,
} from "./index.js";

export type GenwireProviderProps =
  | { client: GenwireClient; options?: never; children?: ReactNode }
  | { client?: never; options?: ClientOptions; children?: ReactNode };

/** Hands a client to the hooks below it: `client`, or one made once from `options`. */
export function GenwireProvider(props: GenwireProviderProps): ReactElement;

/** The provider's client; without a provider, a default client (proxy at `/api/fal/proxy`). */
export function useGenwire(): GenwireClient;

/*
 * Bad options (a callback that is not a function, a value of the wrong type or range, a key-like
 * header, a signal that is not an AbortSignal, options that are not an object) are never thrown
 * during a render or by an action: they are the core's `config` GenwireError naming the option (the
 * one the client gives for the same mistake), in the hook's `error` and as the rejection of the
 * promise its action returns; nothing is sent. Fixed options work on the next action. Unknown
 * option names are warned about in development, naming the hook.
 */

/** `resuming`: following a stored job again after a mount (`resume`), before its first status. */
export type GenerationStatus = "idle" | "submitting" | "resuming" | "queued" | "running" | "success" | "error" | "canceled";

export interface GenerationOptions<Output = any, Input = Record<string, unknown>>
  extends Omit<SubscribeOptions<Input>, "input" | "onQueueUpdate"> {
  /** Cancel the job of a superseded submit upstream (its result is dropped either way). Default true. */
  cancelSuperseded?: boolean;
  /**
   * `"session"` (or true): keep the job in flight in `client.jobs` (sessionStorage by default), let it
   * run on when the component unmounts or the page reloads, and follow it again on the next mount.
   */
  resume?: "session" | boolean;
  /** Which stored jobs this hook follows again. Default the endpoint. */
  resumeKey?: string;
  onQueueUpdate?: (status: QueueStatus) => void;
  onSuccess?: (data: Output, result: { data: Output; requestId: string }) => void;
  onError?: (error: GenwireError) => void;
}

export interface Generation<Output = any, Input = Record<string, unknown>> {
  status: GenerationStatus;
  /** The last successful output; cleared by a new submit. */
  data: Output | undefined;
  /** Set when `status` is `error`; `switch (error.kind)` narrows it. */
  error: GenwireError | undefined;
  /** While `queued`: the position in the queue (0 = next). */
  queuePosition: number | undefined;
  logs: RequestLog[];
  requestId: string | undefined;
  isIdle: boolean;
  /** submitting, resuming, queued or running. */
  isPending: boolean;
  isSuccess: boolean;
  isError: boolean;
  /** Starts a job; supersedes the current one. Errors land in `error`, never as an unhandled rejection. */
  submit(input: Input, options?: GenerationOptions<Output, Input>): void;
  /** Starts a job and resolves with its output (rejects with a GenwireError). */
  submitAsync(input: Input, options?: GenerationOptions<Output, Input>): Promise<Output>;
  /** Cancels the current job upstream; `status` becomes `canceled`. */
  cancel(): void;
  /** Back to idle; a job in flight is cancelled. */
  reset(): void;
}

/** A generation job on the queue with live status, shaped like a mutation. */
export function useGeneration<E extends keyof Endpoints & string>(endpoint: E, options?: GenerationOptions<OutputOf<E>, InputOf<E>>): Generation<OutputOf<E>, InputOf<E>>;
export function useGeneration<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options?: GenerationOptions<Output, Input>): Generation<Output, Input>;

export type StreamStatus = "idle" | "streaming" | "success" | "error" | "canceled";

export interface UseStreamOptions<Output = any, Input = Record<string, unknown>> extends Omit<StreamOptions<Input>, "input"> {
  /** Each partial output, in order (after `partial` is set). */
  onPartial?: (partial: Output) => void;
  onSuccess?: (data: Output) => void;
  onError?: (error: GenwireError) => void;
}

export interface Stream<Output = any, Input = Record<string, unknown>> {
  status: StreamStatus;
  /** The latest partial output (the final one once `success`); cleared by a new start. */
  partial: Output | undefined;
  /** The final output: the last partial when the stream ended. */
  data: Output | undefined;
  /** Set when `status` is `error`; `switch (error.kind)` narrows it. */
  error: GenwireError | undefined;
  requestId: string | undefined;
  isIdle: boolean;
  isStreaming: boolean;
  isSuccess: boolean;
  isError: boolean;
  /** Starts a stream; a stream in flight is aborted. Errors land in `error`, never as an unhandled rejection. */
  start(input: Input, options?: UseStreamOptions<Output, Input>): void;
  /** Starts a stream and resolves with its final output (rejects with a GenwireError). */
  startAsync(input: Input, options?: UseStreamOptions<Output, Input>): Promise<Output>;
  /** Stops the stream in flight; `status` becomes `canceled`. */
  abort(): void;
  /** Back to idle; a stream in flight is aborted. */
  reset(): void;
}

/** An output stream (`client.stream`) as state: the partial output as it grows, the final output, the error; aborted on unmount. */
export function useStream<E extends keyof Endpoints & string>(endpoint: E, options?: UseStreamOptions<OutputOf<E>, InputOf<E>>): Stream<OutputOf<E>, InputOf<E>>;
export function useStream<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options?: UseStreamOptions<Output, Input>): Stream<Output, Input>;

export interface UseRealtimeOptions<Output = any> extends RealtimeOptions<Output> {
  /** Connect only while true. Default true. */
  enabled?: boolean;
}

export interface Realtime<Output = any, Input = Record<string, unknown>> {
  status: RealtimeStatus["status"];
  /** The full status: reconnection attempt and delay. */
  detail: RealtimeStatus;
  /** Throttled; before the socket opens, the newest input waits. */
  send(input: Input): void;
  lastResult: Output | undefined;
  /** The last error; cleared by the next result. */
  error: GenwireError | undefined;
  /** Reconnects now; after `close()`, opens a new connection. */
  reconnect(): void;
  close(): void;
}

/** A realtime connection for as long as the component is mounted; shared by `connectionKey`. */
export function useRealtime<E extends keyof Endpoints & string>(endpoint: E, options?: UseRealtimeOptions<OutputOf<E>>): Realtime<OutputOf<E>, InputOf<E>>;
export function useRealtime<Output = any, Input = Record<string, unknown>, E extends string = string>(endpoint: Unlisted<E>, options?: UseRealtimeOptions<Output>): Realtime<Output, Input>;

export interface Upload {
  status: "idle" | "uploading" | "success" | "error" | "canceled";
  /** 0..1; only ever rises. */
  progress: number;
  loaded: number;
  total: number;
  url: string | undefined;
  error: GenwireError | undefined;
  /** Uploads; a new upload aborts the one in flight. Resolves to the file's URL. */
  upload(data: Blob | File | ArrayBuffer | ArrayBufferView, options?: UploadOptions): Promise<string>;
  abort(): void;
  reset(): void;
}

/** A file upload with progress; unmounting aborts it. */
export function useUpload(options?: Omit<UploadOptions, "signal"> & { onProgress?: (p: UploadProgress) => void }): Upload;

export interface Validation {
  issues: FieldIssue[];
  /** null until the first answer (or when the schema couldn't be had). */
  valid: boolean | null;
  /** A change is waiting for its debounce or answer. */
  pending: boolean;
  /** The schema couldn't be loaded; submits are still validated by the server. */
  error: GenwireError | undefined;
  /** Issues by `field` (`image_size.width`, `images[0]`, "" for the whole input). */
  byField: Record<string, FieldIssue[]>;
  issueFor(field: string): FieldIssue | undefined;
}

/** Validation as you type, `debounceMs` (default 150) after the last change of `input`. */
export function useValidation<E extends keyof Endpoints & string>(endpoint: E, input: Partial<InputOf<E>> | undefined, options?: { debounceMs?: number; enabled?: boolean }): Validation;
export function useValidation(endpoint: string, input: unknown, options?: { debounceMs?: number; enabled?: boolean }): Validation;

/**
 * The client's rolling stats, refreshed every `intervalMs` (default 1000; 0: only on events) and on
 * every event; null before the first. An interval that isn't a number from 0 to 2^31 - 1 is thrown
 * during render as a typed `config` GenwireError.
 */
export function useClientStats(intervalMs?: number): ClientStats | null;
