// The names README.md's examples use without defining them (the prose or an earlier example does),
// for `node tests/types/readme.mjs`, which type-checks every js/jsx/ts/tsx block of the README.
// A global script (no import or export at the top), so each block sees these as globals; a block
// that defines or imports a name itself shadows the one here. Keep it minimal: only what a block
// uses and nothing defines, each with the type the prose gives it. Library names (createClient,
// validate, ...) are not here: a block that uses one imports it, or it is an error.

// An earlier example made these.
declare const client: import("genwire").GenwireClient;
declare const controller: AbortController;
declare const requestId: string;
// The app's data: an endpoint's input, a File picked by the user, an id, a schema.
declare const input: Record<string, unknown>;
declare const file: File;
declare const id: string;
declare const docOrUrl: object | string;
declare const openApiDocOrJsonSchema: object;
declare const pixels: Uint8Array;
declare const session: { id: string };
declare const enough: boolean;
declare const bar: HTMLProgressElement;
// The app's own functions and objects.
declare function show(value: unknown): void;
declare function onQueueUpdate(status: import("genwire").QueueStatus): void;
declare function save(data: unknown): void;
declare function render(output: unknown): void;
declare function badge(...parts: unknown[]): void;
declare function markField(field: string, msg: string): void;
declare function toast(message: string): void;
declare function offerRetry(retryAfterMs?: number | null): void;
declare function showBanner(state: string): void;
declare function myFetch(url: string, init: RequestInit): Promise<Response>;
declare const metrics: { count(key: unknown): void };
declare const analytics: { track(name: string, props: unknown): void };
declare function ErrorNote(props: { error: import("genwire").GenwireError }): import("react").JSX.Element;
