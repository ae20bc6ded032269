"""The judge: an endpoint's OpenAPI input schema rebuilt as the pydantic v2 model its fal app
would have declared, and inputs validated the way fal's FastAPI servers do it (pydantic v2 in
lax mode, `TypeAdapter.validate_python(body, from_attributes=True)` as FastAPI 0.1xx calls it),
reported as fal's 422 lists them (seed 001's renamed types).

How each JSON-schema keyword becomes a pydantic type is written in docs/validation-rules.md
("The model behind a schema"); genwire's core (src/proto/schema/compile.rs) follows the same
table, so the two can be compared input by input. Nothing here is genwire's code.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Annotated, Any, ForwardRef, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, ValidationError

REF_PREFIX = "#/components/schemas/"
# Keywords that describe a schema without constraining it: a `$ref` with only these beside it
# is the referenced schema itself.
ANNOTATIONS = {"title", "description", "default", "examples", "example", "deprecated", "readOnly",
               "writeOnly", "$schema", "$id", "discriminator", "externalDocs", "xml", "format"}


class Unsupported(Exception):
    """A schema the rebuild (and genwire) refuse: unresolved `$ref`, a `$ref` loop, bad keyword."""


def is_annotation(key: str) -> bool:
    return key in ANNOTATIONS or key.startswith("x-")


def finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def integral(v: Any) -> bool:
    return finite_number(v) and float(v).is_integer()


def input_schema(doc: dict, endpoint: str | None) -> dict:
    """`paths[/endpoint].post.requestBody.content["application/json"].schema`, else the only one."""
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        if isinstance(doc, dict):
            return doc
        raise Unsupported("no input schema")

    def post(item):
        try:
            return item["post"]["requestBody"]["content"]["application/json"]["schema"]
        except (KeyError, TypeError):
            return None

    if endpoint:
        s = post(paths.get("/" + endpoint.strip("/")))
        if s is not None:
            return s
    found = [s for s in (post(v) for v in paths.values()) if s is not None]
    if len(found) != 1:
        raise Unsupported("no input schema")
    return found[0]


class Rebuild:
    """One document's input schema as a pydantic type."""

    def __init__(self, doc: dict, endpoint: str | None = None):
        self.components = ((doc.get("components") or {}).get("schemas") or {}) if isinstance(doc, dict) else {}
        self.ns: dict[str, Any] = {}          # forward-reference name -> model class
        self.by_id: dict[int, Any] = {}       # id(schema dict) -> annotation (models as forward refs)
        self.by_ref: dict[str, Any] = {}
        self.resolving: list[str] = []
        self.expected: dict[str, list] = {}   # pydantic's `expected` text -> the values, for fal's ctx
        self.models: list[type] = []
        root = self.annotation(input_schema(doc, endpoint))
        for m in self.models:
            m.model_rebuild(_types_namespace=self.ns)
        self.root = self.resolve_forward(root)
        self.adapter = TypeAdapter(self.root)

    def resolve_forward(self, t):
        return self.ns[t.__forward_arg__] if isinstance(t, ForwardRef) else t

    # --- $ref and allOf -------------------------------------------------------------------

    def target(self, ref: Any) -> tuple[dict, str]:
        if not isinstance(ref, str) or not ref.startswith(REF_PREFIX) or ref[len(REF_PREFIX):] not in self.components:
            raise Unsupported(f"unresolved $ref {ref!r}")
        name = ref[len(REF_PREFIX):]
        return self.components[name], name

    @staticmethod
    def pure_ref(schema: dict) -> str | None:
        """The ref of `{$ref}` / `{allOf: [{$ref}]}` with nothing beside it but annotations and `nullable`."""
        if "$ref" in schema and all(is_annotation(k) or k in ("$ref", "nullable") for k in schema):
            return schema["$ref"]
        branches = schema.get("allOf")
        if (isinstance(branches, list) and len(branches) == 1 and isinstance(branches[0], dict)
                and set(branches[0]) <= {"$ref"} | {k for k in branches[0] if is_annotation(k)} and "$ref" in branches[0]
                and all(is_annotation(k) or k in ("allOf", "nullable") for k in schema)):
            return branches[0]["$ref"]
        return None

    def flatten(self, schema: dict, depth: int = 0) -> tuple[dict, str | None]:
        """`$ref` siblings laid over the referenced schema, `allOf` branches merged into one object;
        with the class name of the first referenced component."""
        if depth > 32:
            raise Unsupported("$ref/allOf nesting too deep (a loop)")
        out: dict = {}
        name = None
        if "$ref" in schema:
            t, key = self.target(schema["$ref"])
            flat, inner = self.flatten(t, depth + 1) if isinstance(t, dict) else ({}, None)
            name = inner or (t.get("title") if isinstance(t, dict) and isinstance(t.get("title"), str) else key)
            merge(out, flat)
        branches = schema.get("allOf", [])
        if not isinstance(branches, list):
            raise Unsupported("allOf")
        for b in branches:
            flat, inner = self.flatten(b, depth + 1) if isinstance(b, dict) else ({}, None)
            name = name or inner
            merge(out, flat)
        merge(out, {k: v for k, v in schema.items() if k not in ("$ref", "allOf")})
        return out, name

    # --- the mapping --------------------------------------------------------------------------

    def annotation(self, schema: Any) -> Any:
        if not isinstance(schema, dict):
            return Any
        key = id(schema)
        if key in self.by_id:
            return self.by_id[key]
        ref = self.pure_ref(schema)
        if ref is not None:
            t = self.ref_annotation(ref)
            if schema.get("nullable") is True:
                t = Optional[t]
            self.by_id[key] = t
            return t
        flat, name = self.flatten(schema)
        t = self.map(flat, name, key)
        self.by_id[key] = t
        return t

    def ref_annotation(self, ref: str) -> Any:
        if ref in self.by_ref:
            return self.by_ref[ref]
        target, key = self.target(ref)
        if id(target) in self.by_id:
            return self.by_id[id(target)]  # a model being built: recursion through it is fine
        if ref in self.resolving:
            raise Unsupported(f"$ref loop through {ref}")
        self.resolving.append(ref)
        try:
            if not isinstance(target, dict):
                t = Any
            elif self.pure_ref(target) is not None:
                t = self.annotation(target)
            else:
                flat, inner = self.flatten(target)
                name = inner or (flat.get("title") if isinstance(flat.get("title"), str) else key)
                t = self.map(flat, name, id(target))
                self.by_id[id(target)] = t
        finally:
            self.resolving.pop()
        self.by_ref[ref] = t
        return t

    def map(self, s: dict, name: str | None, key: int) -> Any:
        """`name` is the class name of the component the schema came from, if a `$ref` led to it."""
        types = s.get("type")
        if isinstance(types, str):
            types = [types]
        elif types is None:
            types = []
        elif not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise Unsupported("type")
        nullable = s.get("nullable") is True or "null" in types
        types = [t for t in types if t != "null"]

        union = []
        for k in ("anyOf", "oneOf"):
            if s.get(k) is None:
                continue
            if not isinstance(s[k], list):
                raise Unsupported(k)
            union += s[k]
        if union:
            branches = []
            for b in union:
                if isinstance(b, dict) and b.get("type") == "null" and len([k for k in b if not is_annotation(k)]) == 1:
                    nullable = True
                    continue
                branches.append(self.annotation(b))
            t = Union[tuple(branches)] if branches else type(None)
            return Optional[t] if nullable and branches else t

        if "enum" in s or "const" in s:
            values = s["enum"] if "enum" in s else [s["const"]]
            if not isinstance(values, list):
                raise Unsupported("enum")
            if any(isinstance(v, (list, dict)) for v in values) or not values:
                return Optional[Any] if nullable else Any
            if None in values:
                nullable = True
            values = [v for v in values if v is not None]
            if not values:
                return type(None)
            if name is not None and "enum" in s:
                t = self.enum_class(name, values)
            else:
                t = Literal[tuple(values)]
                self.remember(values)
            return Optional[t] if nullable else t

        if not types:
            if isinstance(s.get("properties"), dict):
                types = ["object"]
            elif "items" in s:
                types = ["array"]
        kinds = [self.kind(t, s, name, key) for t in types]
        if not kinds:
            t = Any
        elif len(kinds) == 1:
            t = kinds[0]
        else:
            t = Union[tuple(kinds)]
        return Optional[t] if nullable and t is not Any else t

    def kind(self, t: str, s: dict, name: str | None, key: int) -> Any:
        if t == "string":
            lo, hi = length(s, "minLength"), length(s, "maxLength")
            if s.get("format") == "uri" and s.get("maxLength") == 2083:
                return HttpUrl
            pattern = s.get("pattern") if isinstance(s.get("pattern"), str) else None
            if lo is None and hi is None and pattern is None:
                return str
            return Annotated[str, Field(min_length=lo, max_length=hi, pattern=pattern)]
        if t in ("integer", "number"):
            whole = t == "integer"
            c = bounds(s, whole)
            base = int if whole else float
            return Annotated[base, Field(**c)] if c else base
        if t == "boolean":
            return bool
        if t == "null":
            return type(None)
        if t == "array":
            item = self.annotation(s["items"]) if "items" in s else Any
            lo, hi = length(s, "minItems"), length(s, "maxItems")
            lst = list[item]
            return Annotated[lst, Field(min_length=lo, max_length=hi)] if lo is not None or hi is not None else lst
        if t == "object":
            if isinstance(s.get("properties"), dict):
                return self.model(s, name, key)
            extra = s.get("additionalProperties")
            return dict[str, self.annotation(extra) if isinstance(extra, dict) else Any]
        raise Unsupported(f"type {t!r}")

    def model(self, s: dict, name: str | None, key: int) -> Any:
        ref = f"M{len(self.ns)}"
        fwd = ForwardRef(ref)
        self.by_id[key] = fwd
        self.ns[ref] = None
        required = s.get("required") if isinstance(s.get("required"), list) else []
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {}
        for i, (prop, sub) in enumerate(s["properties"].items()):
            t = self.annotation(sub)
            field = f"f{i}"
            if prop in required:
                annotations[field] = t
                namespace[field] = Field(alias=prop)
            else:
                default = sub.get("default") if isinstance(sub, dict) else None
                if default is None and not accepts_none(t):
                    # An optional field with no default (or a null one) and no null branch: fal's
                    # documents drop `anyOf: [.., null]`, and older apps take null there. Optional.
                    t = Optional[t]
                annotations[field] = t
                namespace[field] = Field(default=default, alias=prop)
        extra = s.get("additionalProperties")
        if extra is False:
            config = ConfigDict(extra="forbid")
        elif isinstance(extra, dict):
            config = ConfigDict(extra="allow")
            annotations["__pydantic_extra__"] = dict[str, self.annotation(extra)]
        elif extra is True:
            config = ConfigDict(extra="allow")
        else:
            config = ConfigDict(extra="ignore")
        namespace["__annotations__"] = annotations
        namespace["model_config"] = config
        title = s.get("title") if isinstance(s.get("title"), str) else None
        cls = type(name or title or "Model", (BaseModel,), namespace)
        self.ns[ref] = cls
        self.models.append(cls)
        return fwd

    def enum_class(self, name: str, values: list) -> Any:
        members = [(f"m{i}", v) for i, v in enumerate(values)]
        if all(isinstance(v, str) for v in values):
            cls = enum.Enum(name, members, type=str)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            cls = enum.IntEnum(name, members)
        elif all(finite_number(v) for v in values):
            cls = enum.Enum(name, members, type=float)
        else:
            cls = enum.Enum(name, members)
        self.remember([m.value for m in cls])
        return cls

    def remember(self, values: list) -> None:
        seen: list = []
        for v in values:  # typing.Literal drops repeated values
            if not any(type(v) is type(w) and v == w for w in seen):
                seen.append(v)
        values = seen
        reprs = [repr(v) for v in values]
        text = reprs[-1] if len(reprs) == 1 else f"{', '.join(reprs[:-1])} or {reprs[-1]}"
        self.expected[text] = values

    # --- judging ----------------------------------------------------------------------------

    def judge(self, body: Any) -> list[dict]:
        """fal's 422 `detail` for `body` (already what json.loads gives), or [] when accepted."""
        if body is None:
            # FastAPI: a missing or null body for a required body parameter.
            return [{"loc": ["body"], "msg": "Field required", "type": "missing", "input": None}]
        try:
            self.adapter.validate_python(body, from_attributes=True)
            return []
        except ValidationError as e:
            return [self.fal(x) for x in e.errors(include_url=False)]

    def fal(self, e: dict) -> dict:
        kind = RENAME.get(e["type"], e["type"])
        ctx = e.get("ctx")
        if kind == "one_of":
            ctx = {"expected": self.expected[ctx["expected"]]}
        elif kind == "sequence_too_short":
            ctx = {"min_length": ctx["min_length"]}
        elif kind == "sequence_too_long":
            ctx = {"max_length": ctx["max_length"]}
        out = {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": kind}
        if ctx:
            out["ctx"] = {k: (v if isinstance(v, (int, float, str, list, bool)) or v is None else str(v)) for k, v in ctx.items()}
        out["input"] = e["input"]
        return out


# fal's names for pydantic's error types (seed 001 and fal-protocol.md).
RENAME = {
    "literal_error": "one_of", "enum": "one_of",
    "too_short": "sequence_too_short", "string_too_short": "sequence_too_short",
    "too_long": "sequence_too_long", "string_too_long": "sequence_too_long", "url_too_long": "sequence_too_long",
    "int_parsing": "int_type", "float_parsing": "float_type", "bool_parsing": "bool_type",
    "model_type": "dict_type", "model_attributes_type": "dict_type",
}


def merge(out: dict, add: dict) -> None:
    """`add` laid over `out`: properties joined (later ones win), required joined, the rest replaced."""
    for k, v in add.items():
        if k == "properties" and isinstance(out.get(k), dict) and isinstance(v, dict):
            out[k] = {**out[k], **v}
        elif k == "required" and isinstance(out.get(k), list) and isinstance(v, list):
            out[k] = out[k] + [r for r in v if r not in out[k]]
        else:
            out[k] = v


def length(s: dict, key: str) -> int | None:
    v = s.get(key)
    if v is None:
        return None
    if not finite_number(v):
        raise Unsupported(key)
    return int(v) if integral(v) and v >= 0 else None


def bounds(s: dict, whole: bool) -> dict:
    """ge/gt/le/lt/multiple_of; OpenAPI 3.0's boolean exclusiveMinimum/Maximum included. On an
    integer, a bound that is not a whole number can't be declared in pydantic: it is left out."""
    out: dict = {}
    for k in ("minimum", "maximum", "multipleOf"):
        if s.get(k) is not None and not finite_number(s[k]):
            raise Unsupported(k)
    lo, hi = s.get("minimum"), s.get("maximum")
    emin, emax = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if emin is True:
        out["gt"] = lo
    else:
        if lo is not None:
            out["ge"] = lo
        if finite_number(emin):
            out["gt"] = emin
        elif emin not in (None, False):
            raise Unsupported("exclusiveMinimum")
    if emax is True:
        out["lt"] = hi
    else:
        if hi is not None:
            out["le"] = hi
        if finite_number(emax):
            out["lt"] = emax
        elif emax not in (None, False):
            raise Unsupported("exclusiveMaximum")
    m = s.get("multipleOf")
    if finite_number(m) and m > 0:
        out["multiple_of"] = m
    out = {k: v for k, v in out.items() if v is not None}
    if whole:
        out = {k: int(v) for k, v in out.items() if integral(v)}
    return out


def accepts_none(t: Any) -> bool:
    if t is Any or t is type(None):
        return True
    args = getattr(t, "__args__", None)
    origin = getattr(t, "__origin__", None)
    if origin is Union:
        return any(accepts_none(a) for a in args)
    if origin is Literal:
        return None in args
    return False


def js_normal(v: Any) -> Any:
    """What `JSON.stringify` of the value in a browser sends: whole numbers below 1e21 as integers."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if isinstance(v, list):
        return [js_normal(x) for x in v]
    if isinstance(v, dict):
        return {k: js_normal(x) for k, x in v.items()}
    return v


if __name__ == "__main__":
    import sys

    doc = json.load(open(sys.argv[1]))
    r = Rebuild(doc, sys.argv[3] if len(sys.argv) > 3 else None)
    print(json.dumps(r.judge(json.loads(sys.argv[2])), indent=1))
