"""Inputs for the differential test, judged by pydantic (judge.py), and the corpus's expected issues.

  python differential.py cases OUT.json     every schema's generated inputs with pydantic's 422 issues
  python differential.py corpus [--check]   rewrite (or check) tests/validation/corpus.json's issues

Inputs are generated per schema, deterministically: a valid input from the schema's examples
and defaults, then one mutation at a time at every field (nested models, list items and union
members included): each bound and one past it, wrong JSON types, numeric strings, boolean
forms, enum misses, nulls, lengths in code points with astral characters and lone surrogates,
URL forms, lists at and past their limits, extra keys; then non-object bodies; then random
combinations of two or three mutations (seeded by the schema's name) up to at least 300.
Numbers are sent as a browser's JSON.stringify writes them (js_normal).
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path
from typing import Any

from judge import Rebuild, Unsupported, is_annotation, js_normal

ROOT = Path(__file__).resolve().parents[3]
MIN_CASES = 300

# The documents: the real fal ones copied into the repo, and the simulator's own.
SCHEMAS = [
    *[(p.stem, p, None) for p in sorted((ROOT / "tests/validation/fal-schemas").glob("*.json"))],
    *[(p.stem, p, p.stem.replace("__", "/")) for p in sorted((ROOT / "server/src/sim/schemas").glob("*.json"))],
]

WRONG_TYPES = [None, True, False, 0, 1, 2, -1, 1.5, "", "abc", "2", " 4 ", "true", "yes", [], [1], {}, {"a": 1}]
BOOL_FORMS = [True, False, 0, 1, 2, -1, 0.5, 1e21, "true", "false", "TRUE", "False", "yes", "no", "on", "off",
              "t", "f", "y", "n", "1", "0", " true", "2", "", "truthy", None]
NUMERIC_STRINGS = ["1", " 2 ", "+3", "03", "1_0", "1__0", "0x10", "1e3", "2.0", "2.5", " 4.5 ", ".5", "5.",
                   "inf", "-inf", "nan", "NaN", "Infinity", "1_000.5", "abc", "", " ", "0-1", "\u00a07\u00a0"]
URLS = ["https://example.com/a.png", "abc", "", " ", "http://", "https://", "http:", "ftp://a", "ftp://",
        "data:image/png;base64,AA", "blob:https://x/1", "/home/me/a.png", "./a.png", "~/a.png", "C:\\a.png",
        "file:///a.png", "http://a b", "HTTP://X.COM", " https://x ", "http:example.com", "mailto:x",
        "//cdn.example/a.png", "http://user@/x", "http://:80/x", "ws://1.2.3.4", "https://[::1]/a",
        "https://x:99999/", "javascript:alert(1)", "https://\ud800.com", "https://ex\u00e4mple.com/a"]


def sanitize(v: Any) -> Any:
    """Lone surrogates replaced by U+FFFD (what a Rust string can hold)."""
    if isinstance(v, str):
        return v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(v, list):
        return [sanitize(x) for x in v]
    if isinstance(v, dict):
        return {k: sanitize(x) for k, x in v.items()}
    return v


def surrogate_paths(v: Any, at: list) -> list:
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return []
        except UnicodeEncodeError:
            return [at]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in surrogate_paths(x, at + [i])]
    if isinstance(v, dict):
        return [p for k, x in v.items() for p in surrogate_paths(x, at + [k])]
    return []


class Gen:
    """Valid values and mutations for each place in a schema."""

    def __init__(self, rebuild: Rebuild, seed: str):
        self.r = rebuild
        self.rng = random.Random(seed)

    def flat(self, schema: Any) -> dict:
        if not isinstance(schema, dict):
            return {}
        ref = self.r.pure_ref(schema)
        if ref is not None:
            target, _ = self.r.target(ref)
            return self.flat(target) | ({"nullable": True} if schema.get("nullable") is True else {})
        return self.r.flatten(schema)[0]

    @staticmethod
    def types(s: dict) -> list:
        t = s.get("type")
        t = [t] if isinstance(t, str) else (t or [])
        if not t and isinstance(s.get("properties"), dict):
            t = ["object"]
        return [x for x in t if x != "null"]

    @staticmethod
    def members(s: dict) -> list:
        return [b for k in ("anyOf", "oneOf") for b in (s.get(k) or [])
                if not (isinstance(b, dict) and b.get("type") == "null")]

    # --- a valid value ------------------------------------------------------------------------

    def valid(self, schema: Any, depth: int = 0) -> Any:
        s = self.flat(schema)
        ex = s.get("examples")
        if isinstance(ex, list) and ex and ex[0] is not None:
            return ex[0]
        if s.get("default") is not None and depth > 0:
            return s["default"]
        if self.members(s):
            return self.valid(self.members(s)[0], depth + 1)
        if "enum" in s:
            return next((v for v in s["enum"] if v is not None), None)
        if "const" in s:
            return s["const"]
        types = self.types(s)
        t = types[0] if types else None
        if t == "string":
            if s.get("format") == "uri":
                return "https://example.com/a.png"
            lo = int(s.get("minLength") or 0)
            return "a" * max(lo, 3 if lo == 0 else lo)
        if t == "integer":
            return int(self.middle(s, True))
        if t == "number":
            return self.middle(s, False)
        if t == "boolean":
            return True
        if t == "array":
            n = int(s.get("minItems") or 1)
            return [self.valid(s.get("items"), depth + 1) for _ in range(n)] if depth < 4 else []
        if t == "object" and isinstance(s.get("properties"), dict):
            if depth > 4:
                return {}
            req = s.get("required") or []
            return {k: self.valid(v, depth + 1) for k, v in s["properties"].items() if k in req}
        if t == "object":
            return {}
        return "x"

    @staticmethod
    def middle(s: dict, whole: bool) -> float:
        lo = s.get("minimum", s.get("exclusiveMinimum") if not isinstance(s.get("exclusiveMinimum"), bool) else None)
        hi = s.get("maximum", s.get("exclusiveMaximum") if not isinstance(s.get("exclusiveMaximum"), bool) else None)
        m = s.get("multipleOf")
        if lo is not None and hi is not None:
            v = (lo + hi) / 2
        elif lo is not None:
            v = lo + 1
        elif hi is not None:
            v = hi - 1
        else:
            v = 3
        if m:
            v = round(v / m) * m
        return math.floor(v) if whole and not m else v

    # --- mutations ----------------------------------------------------------------------------

    def edges(self, schema: Any, depth: int = 0, name: str = "") -> list:
        """(label, value) pairs for one place: the interesting values a user could send there.
        `name`: the property it is (a `*_url` name gets the URL forms too)."""
        s = self.flat(schema)
        self.name = name
        out: list = [("null", None)]
        members = self.members(s)
        if members:
            for b in members:
                out.append(("member valid", self.valid(b, depth + 1)))
                out += [(f"member {lbl}", v) for lbl, v in self.edges(b, depth + 1, self.name)[1:8]]
            out += [(f"type {json.dumps(v)}", v) for v in WRONG_TYPES[1:]]
            return out
        if "enum" in s or "const" in s:
            values = s.get("enum") or [s.get("const")]
            for v in values:
                out.append((f"enum {v!r}", v))
                if isinstance(v, str):
                    out += [(f"enum upper {v!r}", v.upper()), (f"enum spaced {v!r}", f" {v} "), (f"enum +x {v!r}", v + "x")]
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out += [(f"enum str {v!r}", str(v)), (f"enum float {v!r}", v + 0.5)]
            out += [("enum miss", "zzz"), ("enum number", 1), ("enum bool", True), ("enum surrogate", "\ud800"), ("enum list", [values[0]])]
            return out
        types = self.types(s)
        if not types:
            return out + [("any", {"a": [1, "b"]})]
        for t in types:
            out += getattr(self, "edges_" + t)(s, depth)
        return out

    def edges_string(self, s: dict, depth: int) -> list:
        out = [(f"type {json.dumps(v)}", v) for v in [123, 1.5, True, [], {}, ["a"]]]
        lo, hi = s.get("minLength"), s.get("maxLength")
        if s.get("format") == "uri" or self.name.endswith("_url"):
            out += [(f"url {u[:40]!r}", u) for u in URLS]
            base = "https://example.com/"
            out += [("url 2083 bytes", base + "a" * (2083 - len(base))), ("url 2084 bytes", base + "a" * (2084 - len(base))),
                    ("url 2083 chars, more bytes", base + "é" * (2083 - len(base)))]
        for n in sorted({x for x in [0, 1, lo, hi] if isinstance(x, int)} | ({lo - 1} if isinstance(lo, int) and lo > 0 else set()) | ({hi + 1} if isinstance(hi, int) else set())):
            out.append((f"len {n}", "a" * n))
            out.append((f"len {n} astral", "\U0001F600" * n))
            if n:
                out.append((f"len {n} combining", ("e\u0301" * n)[:n]))
        out += [("surrogate", "\ud800"), ("surrogate inside", "ab\udc00cd"), ("surrogate pair ok", "\ud83d\ude00" .encode("utf-16", "surrogatepass").decode("utf-16")),
                ("nbsp", "\u00a0"), ("numeric str", "42"), ("spaces", "   ")]
        if isinstance(hi, int):
            out.append((f"len {hi} + surrogate", "a" * (hi - 1) + "\ud800"))
        return out

    def numbers(self, s: dict, whole: bool) -> list:
        pts: set = set()
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            v = s.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                pts |= {v, v - 1, v + 1} if whole else {v, v - 0.5, v + 0.5, v - 1e-9, v + 1e-9}
        m = s.get("multipleOf")
        if isinstance(m, (int, float)) and m > 0:
            pts |= {m, 2 * m, m * 3 + m / 3, m / 2, -m}
        pts |= {0, 1, -1, 10 ** 20, 1e21, 2 ** 63, 1e-7, 123456.789}
        return sorted(pts, key=lambda x: (abs(x), x))

    def edges_integer(self, s: dict, depth: int) -> list:
        out = []
        for v in self.numbers(s, True):
            out.append((f"int {v!r}", v))
            if isinstance(v, int) and abs(v) < 10 ** 6:
                out += [(f"int str {v}", str(v)), (f"int spaced {v}", f" {v} "), (f"int .0 {v}", f"{v}.0"), (f"int float {v}+.5", v + 0.5)]
        out += [(f"int str {x!r}", x) for x in NUMERIC_STRINGS]
        out += [("bool true", True), ("bool false", False), ("long digits", "9" * 4301), ("type list", [1]), ("type dict", {"a": 1})]
        return out

    def edges_number(self, s: dict, depth: int) -> list:
        out = []
        for v in self.numbers(s, False):
            out.append((f"num {v!r}", v))
            if abs(v) < 10 ** 6:
                out += [(f"num str {v}", str(v)), (f"num spaced {v}", f" {v} ")]
        out += [(f"num str {x!r}", x) for x in NUMERIC_STRINGS]
        out += [("bool true", True), ("bool false", False), ("type list", [1]), ("type dict", {"a": 1})]
        return out

    def edges_boolean(self, s: dict, depth: int) -> list:
        return [(f"bool {v!r}", v) for v in BOOL_FORMS] + [("type list", [True]), ("type dict", {})]

    def edges_null(self, s: dict, depth: int) -> list:
        return [("none", None), ("not none", 0)]

    def edges_array(self, s: dict, depth: int) -> list:
        item = s.get("items")
        good = self.valid(item, depth + 1) if item is not None else 1
        out = [(f"type {json.dumps(v)}", v) for v in ["a", 1, {"0": good}, True]]
        lo, hi = s.get("minItems"), s.get("maxItems")
        for n in sorted({0, 1, 2} | ({lo - 1, lo} if isinstance(lo, int) and lo > 0 else set()) | ({hi, hi + 1} if isinstance(hi, int) else set())):
            out.append((f"items {n}", [good] * n))
        if item is not None and depth < 3:
            for lbl, v in self.edges(item, depth + 1)[:14]:
                out.append((f"item0 {lbl}", [v]))
                out.append((f"item1 {lbl}", [good, v]))
            if isinstance(hi, int):
                bad = self.edges(item, depth + 1)[1][1]
                out.append(("past max with a bad item", [bad] * (hi + 1)))
            if isinstance(lo, int) and lo > 1:
                out.append(("under min with a bad item", [self.edges(item, depth + 1)[1][1]] * (lo - 1)))
        return out

    def edges_object(self, s: dict, depth: int) -> list:
        out = [(f"type {json.dumps(v)}", v) for v in ["a", 1, [], True, [{}]]]
        props = s.get("properties")
        if not isinstance(props, dict):
            extra = s.get("additionalProperties")
            out += [("dict empty", {}), ("dict any", {"k": "v"})]
            if isinstance(extra, dict) and depth < 3:
                out += [(f"dict value {lbl}", {"k": v}) for lbl, v in self.edges(extra, depth + 1)[:12]]
            return out
        base = self.valid(s, depth)
        out += [("model empty", {}), ("model extra key", {**base, "zzz_extra": 1}), ("model extra null", {**base, "zzz": None})]
        req = s.get("required") or []
        for k in props:
            if k in req:
                out.append((f"missing {k}", {x: y for x, y in base.items() if x != k}))
        if depth < 3:
            for k, sub in props.items():
                for lbl, v in self.edges(sub, depth + 1, k)[:10]:
                    out.append((f".{k} {lbl}", {**base, k: v}))
        return out

    # --- inputs of a schema ---------------------------------------------------------------------

    def inputs(self, root_schema: dict) -> list:
        s = self.flat(root_schema)
        base = self.valid(s)
        props = s.get("properties") or {}
        # Optional fields filled with their defaults (or a valid value) too, so they are exercised.
        full = dict(base)
        for k, sub in props.items():
            if k not in full:
                fs = self.flat(sub)
                full[k] = fs["default"] if fs.get("default") is not None else self.valid(sub, 1)
        cases = [("valid minimal", base), ("valid full", full)]
        singles: dict = {}
        for k, sub in props.items():
            singles[k] = [(f"{k}: {lbl}", v) for lbl, v in self.edges(sub, 0, k)]
            cases.append((f"{k}: absent", {x: y for x, y in base.items() if x != k}))
            for lbl, v in singles[k]:
                cases.append((lbl, {**base, k: v}))
        # Strings drawn from the characters lax parsing cares about, for every scalar field.
        alphabet = ["0", "1", "2", "5", "9", "-", "+", ".", "_", "e", "E", " ", "\t", "\u00a0", "x", "inf", "nan", "true", "on", "0x", "\u0661"]
        for k, sub in props.items():
            t = self.types(self.flat(sub))
            if set(t) & {"integer", "number", "boolean"} or "enum" in self.flat(sub):
                for _ in range(12):
                    text = "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(1, 6)))
                    cases.append((f"{k}: drawn {text!r}", {**base, k: text}))
        cases += [("body null", None), ("body list", []), ("body string", "x"), ("body number", 1), ("body true", True),
                  ("body empty", {}), ("body extra", {**base, "zzz_unknown": {"a": 1}}), ("body list of base", [base])]
        keys = [k for k in props if singles.get(k)]
        while len(cases) < MIN_CASES + 60 and keys:
            pick = self.rng.sample(keys, min(len(keys), self.rng.choice([2, 3])))
            body = dict(full)
            labels = []
            for k in pick:
                lbl, v = self.rng.choice(singles[k])
                body[k] = v
                labels.append(lbl)
            cases.append(("combo " + " & ".join(labels), body))
        return cases


def judge_cases() -> dict:
    import pydantic
    out = {"pydantic": pydantic.VERSION, "schemas": {}, "cases": []}
    for name, path, endpoint in SCHEMAS:
        doc = json.loads(path.read_text())
        rebuild = Rebuild(doc, endpoint)
        out["schemas"][name] = {"file": str(path.relative_to(ROOT)), "endpoint": endpoint}
        from judge import input_schema
        gen = Gen(rebuild, name)
        n = 0
        for label, body in gen.inputs(input_schema(doc, endpoint)):
            body = js_normal(body)
            issues = rebuild.judge(body)
            out["cases"].append({
                "schema": name, "label": label,
                "input_json": json.dumps(body),
                "input": sanitize(body),
                "lone_surrogates": surrogate_paths(body, []),
                "expected": sanitize(issues),
            })
            n += 1
        assert n >= MIN_CASES, f"{name}: only {n} inputs"
    return out


def corpus(check: bool) -> int:
    """The corpus's expected issues, from pydantic: rewritten, or (--check) compared."""
    path = ROOT / "tests/validation/corpus.json"
    cases = json.loads(path.read_text())
    judges: dict = {}
    wrong = []
    for c in cases:
        ep = c["endpoint"]
        if ep not in judges:
            doc = json.loads((ROOT / "server/src/sim/schemas" / (ep.replace("/", "__") + ".json")).read_text())
            judges[ep] = Rebuild(doc, ep)
        got = sanitize(judges[ep].judge(js_normal(c["input"])))
        if c.get("client_only"):
            # Only the client's extras: the server takes the input.
            if got:
                wrong.append(c["name"] + " (client-only, but pydantic refuses it)")
            continue
        if got != c["issues"]:
            wrong.append(c["name"])
            c["issues"] = got
    if check:
        for w in wrong:
            print(f"corpus.json differs from pydantic: {w}")
        print(f"corpus: {len(cases) - len(wrong)} of {len(cases)} cases as pydantic judges them")
        return 1 if wrong else 0
    text = "[\n" + ",\n".join(format_case(c) for c in cases) + "\n]\n"
    path.write_text(text)
    print(f"corpus: {len(wrong)} of {len(cases)} cases rewritten from pydantic")
    return 0


def format_case(c: dict) -> str:
    lines = ["  {"]
    keys = [k for k in ("name", "endpoint", "client_only", "input") if k in c]
    for k in keys:
        lines.append(f'    "{k}": {json.dumps(c[k], ensure_ascii=False)},')
    if c["issues"]:
        lines.append('    "issues": [')
        lines.append(",\n".join(f"      {json.dumps(i, ensure_ascii=False)}" for i in c["issues"]))
        lines.append("    ]")
    else:
        lines.append('    "issues": []')
    return "\n".join(lines) + "\n  }"


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "cases":
        data = judge_cases()
        Path(sys.argv[2]).parent.mkdir(parents=True, exist_ok=True)
        Path(sys.argv[2]).write_text(json.dumps(data))
        per = {}
        for c in data["cases"]:
            per[c["schema"]] = per.get(c["schema"], 0) + 1
        print("differential: " + ", ".join(f"{k} {v}" for k, v in per.items()) + f" ({len(data['cases'])} inputs judged by pydantic)")
    elif len(sys.argv) >= 2 and sys.argv[1] == "corpus":
        sys.exit(corpus("--check" in sys.argv))
    else:
        print(__doc__)
        sys.exit(2)
