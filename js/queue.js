// genwire/queue: the library without realtime (js/library.js over the queue core's glue, the crate
// built without its `realtime` feature): a smaller download for pages that don't open realtime
// connections (docs/size.md, "Fourth pass", step 4). `realtime.connect` reports a typed `config`
// error. The validator module is the same as `genwire`'s.
import wasmInit, { GenwireClient, decodeError as wasmDecodeError, validate as wasmValidate, setModuleLoader, compile } from "../pkg/genwire_queue.js";
import { library } from "./library.js";

export const { init, decodeError, validate, createClient } = library({ default: wasmInit, GenwireClient, decodeError: wasmDecodeError, validate: wasmValidate, setModuleLoader, compile }, {
  lean: () => new URL("../pkg/genwire_queue_lean_bg.wasm", import.meta.url),
  validatorWasm: () => new URL("../pkg/genwire_validate_bg.wasm", import.meta.url),
  validatorGlue: () => import("../pkg/genwire_validate.js"),
});
