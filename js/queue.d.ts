// Types of the `genwire/queue` entry: genwire without realtime, on a smaller core (docs/size.md,
// "Fourth pass", step 4). Everything else is `genwire`'s: the same options, calls, errors and events.
import type { ClientOptions, GenwireClient } from "./index.js";
export * from "./index.js";

/**
 * A client of `genwire/queue`: queue, subscribe, run, stream, storage, validation, events and stats,
 * as `genwire`'s. It has no realtime: `realtime.connect` throws a `GenwireError` of kind `config`
 * (import `createClient` from `genwire` for realtime connections).
 */
export interface QueueClient extends Omit<GenwireClient, "realtime"> {
  readonly realtime: {
    /** Throws: `genwire/queue` has no realtime. */
    connect(endpoint: string, options?: unknown): never;
    debug(): { connections: number; sockets: number; listeners: number; timers: number };
  };
}

export function createClient(options?: ClientOptions): QueueClient;
