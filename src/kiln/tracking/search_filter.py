"""Parse run search expressions such as ``metrics.accuracy > 0.9 and params.C = '1.0'``.

Grammar (case-insensitive keywords)::

    expression := clause ( AND clause )*
    clause     := field OP value
    field      := (metrics|params|tags|attributes) "." key   |   attribute
    key        := identifier | `back-quoted key` | "double-quoted key"
    OP         := = | != | < | <= | > | >= | LIKE | ILIKE
    value      := number | 'single-quoted string' | "double-quoted string"

Attributes: ``status``, ``name``, ``user``, ``start_time``, ``end_time``, ``parent_run_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.core.errors import Invalid
from kiln.tracking.schemas import MAX_EPOCH_MS

ENTITIES = {"metrics", "metric", "params", "param", "tags", "tag", "attributes", "attribute", "attr"}
ATTRIBUTES = {"status", "name", "user", "start_time", "end_time", "parent_run_id", "id", "source"}
NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
STRING_OPS = {"=", "!=", "like", "ilike"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<squote>'(?:[^'\\]|\\.|'')*')
      | (?P<dquote>"(?:[^"\\]|\\.)*")
      | (?P<bquote>`[^`]*`)
      | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)(?![\w.]))
      | (?P<word>[A-Za-z_][\w\-]*)
      | (?P<dot>\.)
      | (?P<bad>\S)
    )""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Clause:
    entity: str  # "metric", "param", "tag", "attribute"
    key: str
    op: str
    value: str | float


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "bad":
            raise Invalid(f"unexpected character {value!r} in filter {text!r}")
        tokens.append((kind, value))
    return tokens


def _unquote(kind: str, raw: str) -> str:
    inner = raw[1:-1]
    if kind == "squote":
        return inner.replace("''", "'").replace("\\'", "'")
    if kind == "dquote":
        return inner.replace('\\"', '"')
    return inner


def _canonical_entity(word: str) -> str:
    word = word.lower()
    if word.startswith("metric"):
        return "metric"
    if word.startswith("param"):
        return "param"
    if word.startswith("tag"):
        return "tag"
    return "attribute"


def parse_filter(text: str | None) -> list[Clause]:
    """Parse a filter string into clauses (implicitly AND-ed); ``Invalid`` says what to fix."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0

    def expect(condition: bool, what: str) -> None:
        if not condition:
            raise Invalid(f"invalid filter {text!r}: expected {what}")

    while i < len(tokens):
        if clauses:
            expect(tokens[i][0] == "word" and tokens[i][1].lower() == "and", "'and' between conditions")
            i += 1
        expect(i < len(tokens) and tokens[i][0] == "word", "a field such as metrics.accuracy or status")
        first = tokens[i][1]
        i += 1
        if first.lower() in ENTITIES and i < len(tokens) and tokens[i][0] == "dot":
            i += 1
            expect(i < len(tokens) and tokens[i][0] in ("word", "bquote", "dquote"), "a key after the '.'")
            kind, raw = tokens[i]
            key = raw if kind == "word" else _unquote(kind, raw)
            # Unquoted keys may contain dots (metrics.val.loss reads as the key 'val.loss').
            while kind == "word" and i + 2 < len(tokens) and tokens[i + 1][0] == "dot":
                i += 2
                key += "." + tokens[i][1]
            i += 1
            entity = _canonical_entity(first)
        else:
            entity, key = "attribute", first
        if entity == "attribute":
            key = key.lower()
            if key not in ATTRIBUTES:
                raise Invalid(
                    f"unknown run attribute {key!r} in filter; use one of {sorted(ATTRIBUTES)} "
                    "or metrics.<key>, params.<key>, tags.<key>"
                )
        expect(i < len(tokens), f"a comparison after {key!r}")
        kind, op = tokens[i]
        if kind == "word" and op.lower() in ("like", "ilike"):
            op = op.lower()
        elif kind == "op":
            op = {"==": "=", "<>": "!="}.get(op, op)
        else:
            raise Invalid(
                f"invalid filter {text!r}: expected a comparison (= != < <= > >= LIKE) after {key!r}"
            )
        i += 1
        expect(i < len(tokens), f"a value after {op!r}")
        kind, raw = tokens[i]
        i += 1
        value: str | float
        if kind == "number":
            # Params, tags and names are text: keep the number as typed ('1.0' must not become '1').
            numeric = entity == "metric" or (entity == "attribute" and key in ("start_time", "end_time"))
            value = float(raw) if numeric else raw
        elif kind in ("squote", "dquote"):
            value = _unquote(kind, raw)
        else:
            raise Invalid(f"invalid filter {text!r}: {raw!r} is not a number or a quoted string")
        clauses.append(_checked(Clause(entity, key, op, value), text))
    return clauses


def _checked(clause: Clause, text: str) -> Clause:
    if clause.entity == "metric":
        if not isinstance(clause.value, float) or clause.op not in NUMERIC_OPS:
            raise Invalid(
                f"metric {clause.key!r} compares to a number with = != < <= > >= in filter {text!r}"
            )
        return clause
    if clause.entity == "attribute" and clause.key in ("start_time", "end_time"):
        if not isinstance(clause.value, float) or clause.op not in NUMERIC_OPS:
            raise Invalid(f"{clause.key} compares to milliseconds since the epoch with = != < <= > >=")
        # NaN fails both comparisons, so it is refused too.
        if not 0 <= clause.value <= MAX_EPOCH_MS:
            raise Invalid(
                f"{clause.key} compares to milliseconds since the epoch between 0 and {MAX_EPOCH_MS} "
                f"(the end of year 9999), not {clause.value!r}",
                details={"key": clause.key, "min": 0, "max": MAX_EPOCH_MS},
            )
        return clause
    if clause.op not in STRING_OPS:
        raise Invalid(
            f"{clause.entity} {clause.key!r} is text and supports = != LIKE ILIKE, not {clause.op!r} "
            f"(in filter {text!r})"
        )
    return Clause(clause.entity, clause.key, clause.op, _as_text(clause.value))


def _as_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class OrderBy:
    entity: str  # "metric", "param", "attribute"
    key: str
    descending: bool


def parse_order_by(text: str | None) -> OrderBy:
    """``metrics.accuracy DESC``, ``start_time``, ``params.lr ASC``; default: newest first."""
    if not text or not text.strip():
        return OrderBy("attribute", "start_time", True)
    parts = text.strip().split()
    if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise Invalid(f"invalid order_by {text!r}: use '<field> [ASC|DESC]', e.g. 'metrics.accuracy DESC'")
    descending = len(parts) == 2 and parts[1].lower() == "desc"
    field = parts[0].strip("`")
    head, _, key = field.partition(".")
    if key and head.lower() in ENTITIES:
        entity = _canonical_entity(head)
        if entity == "tag":
            raise Invalid("runs cannot be ordered by a tag; order by a metric, a param or an attribute")
        if entity == "attribute":
            head, key = key, ""
        else:
            return OrderBy(entity, key.strip("`"), descending)
    name = head.lower()
    if name not in ATTRIBUTES:
        raise Invalid(f"invalid order_by {text!r}: unknown field {name!r}")
    return OrderBy("attribute", name, descending)
