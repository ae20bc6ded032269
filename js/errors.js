// The errors the JS files make themselves (before the wasm is loaded, or without it: diagnose),
// shaped as the core shapes a `config` GenwireError, and the key rules of the core
// (src/proto/keys.rs) over the lists it exports (js/facts.js), for diagnose.
import { APP_SESSION_HEADERS, SECRET_NAMES, SECRET_PREFIXES, SECRET_SUFFIXES } from "./facts.js";

/** A `GenwireError` of kind `config`: a mistake in the call, said before anything is sent. */
export function configError(message) {
  const e = new Error(message);
  e.name = "GenwireError";
  return Object.assign(e, { kind: "config", category: "config", retryable: false, message, issues: [] });
}

const normal = (name) => String(name).toLowerCase().replace(/[-_. ]/g, "");

/** An option, header or query parameter of this name would carry a key (the core's rule). */
export function keyLikeName(name) {
  const n = normal(name);
  return n !== "" && (SECRET_NAMES.includes(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s)) || SECRET_PREFIXES.some((p) => n.startsWith(p)));
}

/** A header of this name would carry a key (the core's `key_like_header` on the name). */
export function keyLikeHeaderName(name) {
  const n = normal(name);
  const session = APP_SESSION_HEADERS.some((s) => n === s || (n.startsWith("x") && n.slice(1) === s));
  return keyLikeName(name) && !session;
}

/** The query (or fragment) parameter of `url` whose name looks like a key, or its user info. */
export function keyInUrl(url) {
  const s = String(url);
  const authority = (s.split("://")[1] ?? "").split(/[/?#]/)[0];
  if (s.includes("://") && authority.includes("@")) return "user info";
  const at = s.search(/[?#]/);
  if (at < 0) return null;
  for (const pair of s.slice(at + 1).split(/[&;?#]/)) {
    if (!pair) continue;
    let name = pair.split("=")[0];
    try { name = decodeURIComponent(name.replace(/\+/g, " ")); } catch { /* as written */ }
    if (keyLikeName(name)) return name;
  }
  return null;
}
