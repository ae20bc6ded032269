// Types of genwire/proxy: the app's fal proxy route, for servers (no DOM or Node types needed).

export interface ProxyOptions {
  /**
   * The fal key, or a function returning it. Default: `process.env.FAL_KEY` (else
   * `FAL_KEY_ID:FAL_KEY_SECRET`), read on each request. It is sent to fal only, never echoed.
   */
  key?: string | ((request: Request) => string | undefined | Promise<string | undefined>);
  /**
   * Endpoint ids the proxy may call (`"fal-ai/flux/dev"`; `*` is one path segment, a trailing `**`
   * any number). Status, result and cancel are allowed for the apps (`owner/alias`) listed; realtime
   * tokens for their aliases; uploads always. Default: every endpoint.
   */
  endpoints?: string[];
  /**
   * Who may use the proxy (your session check, say); `context` is the framework's own request
   * object (Express `req`, Hono `c`, the Next request). Default: `sameOrigin`.
   */
  authorize?: (request: Request, context?: unknown) => boolean | Promise<boolean>;
  /** Largest request body in bytes (413 above). Default 10 MiB. */
  bodyLimit?: number;
  /** The `fetch` that calls fal. Default `globalThis.fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** A refusal's body, also what `checkTarget` returns when it refuses. */
export interface ProxyRefusal {
  status: number;
  error_type: "proxy_target_rejected" | "proxy_caller_rejected" | "proxy_request_error" | "proxy_config_error" | "proxy_upstream_error";
  reason:
    | "missing_target" | "bad_url" | "scheme" | "userinfo" | "port" | "ip_literal" | "host_not_allowed" | "encoded_host"
    | "path_not_allowed" | "traversal" | "fragment" | "method_not_allowed" | "body_too_large" | "endpoint_not_allowed"
    | "cross_origin" | "caller_refused" | "bad_body" | "missing_key" | "upstream_unreachable" | "upstream_redirect";
  detail: string;
}

/** The proxy on the Fetch standard: give it the request to `/api/fal/proxy`, return its answer. */
export type ProxyHandler = (request: Request, context?: unknown) => Promise<Response>;

/**
 * Makes the handler. Throws a `GenwireError` of kind `config` (an `Error` named `GenwireError`,
 * `kind`/`category` `"config"`, naming the option) when the options are not an object, hold a
 * name `ProxyOptions` does not have, or a value of the wrong kind; so do the adapters below.
 */
export function createProxy(options?: ProxyOptions): ProxyHandler;

/** Next.js App Router: `export const { GET, POST, PUT } = nextRoute();` */
export function nextRoute(options?: ProxyOptions): {
  GET: (request: Request) => Promise<Response>;
  POST: (request: Request) => Promise<Response>;
  PUT: (request: Request) => Promise<Response>;
};

/** Hono (`app.all("/api/fal/proxy", honoHandler())`) and any router whose context has `req.raw`. */
export function honoHandler(options?: ProxyOptions): (c: { req: { raw: Request } }) => Promise<Response>;

/** The parts of Node's `IncomingMessage` the Node adapters use. */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: string, listener: (...args: any[]) => void): unknown;
}
/** The parts of Node's `ServerResponse` the Node adapters use. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** Express and Node `http`: `app.all("/api/fal/proxy", nodeHandler())`; mount it before body parsers. */
export function nodeHandler(options?: ProxyOptions): (req: NodeRequestLike, res: NodeResponseLike) => Promise<void>;

/** Next.js Pages router: `export default nextPagesHandler();` plus `export const config = { api: { bodyParser: false } };` */
export function nextPagesHandler(options?: ProxyOptions): (req: NodeRequestLike, res: NodeResponseLike) => Promise<void>;

/** genwire's allowlist (the Rust proxy's rules): the URL to call, or why not. */
export function checkTarget(raw: string, method?: string): { url: URL } | ProxyRefusal;

/** The default caller check: `Sec-Fetch-Site` same-origin (or none), else `Origin` equal to the host, else no browser headers at all. */
export function sameOrigin(request: Request): boolean;
