"""Parse run search expressions such as ``metrics.accuracy > 0.9 and params.C = '1.0'``.

Grammar (case-insensitive keywords)::

    expression := clause ( AND clause )*
    clause     := field OP value
    field      := (metrics|params|tags|attributes) "." key   |   attribute
    key        := identifier | `back-quoted key` | "double-quoted key"
    OP         := = | != | < | <= | > | >= | LIKE | ILIKE
    value      := number | 'single-quoted string' | "double-quoted string"

Attributes of runs: ``status``, ``name``, ``user``, ``start_time``, ``end_time``, ``parent_run_id``.

One grammar, several subjects: a ``FilterGrammar`` names the subject's attributes (which are numbers,
which are times), ``parse_filter`` reads a filter against it, and ``compile_filter`` turns the clauses
into SQL conditions through a ``FilterTarget`` that knows the subject's tables. Runs use
``RUN_GRAMMAR`` (``tracking/search.py``); model versions use the registry's (``registry/search.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement

from kiln.core.errors import Invalid
from kiln.tracking.schemas import MAX_EPOCH_MS

ENTITIES = {"metrics", "metric", "params", "param", "tags", "tag", "attributes", "attribute", "attr"}
ATTRIBUTES = {"status", "name", "user", "start_time", "end_time", "parent_run_id", "id", "source"}
NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
STRING_OPS = {"=", "!=", "like", "ilike"}


@dataclass(frozen=True, slots=True)
class FilterGrammar:
    """What one subject (runs, model versions) can be filtered by, besides metrics, params and tags."""

    subject: str  # named in messages: "unknown run attribute 'x'"
    attributes: frozenset[str]
    # Attributes compared to milliseconds since the epoch.
    time_attributes: frozenset[str] = field(default_factory=frozenset)
    # Attributes compared to plain numbers (a version's number).
    number_attributes: frozenset[str] = field(default_factory=frozenset)


RUN_GRAMMAR = FilterGrammar(
    subject="run",
    attributes=frozenset(ATTRIBUTES),
    time_attributes=frozenset({"start_time", "end_time"}),
)

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


def parse_filter(text: str | None, grammar: FilterGrammar = RUN_GRAMMAR) -> list[Clause]:
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
            if key not in grammar.attributes:
                raise Invalid(
                    f"unknown {grammar.subject} attribute {key!r} in filter; use one of "
                    f"{sorted(grammar.attributes)} or metrics.<key>, params.<key>, tags.<key>"
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
            numeric = entity == "metric" or (
                entity == "attribute" and key in grammar.time_attributes | grammar.number_attributes
            )
            value = float(raw) if numeric else raw
        elif kind in ("squote", "dquote"):
            value = _unquote(kind, raw)
        else:
            raise Invalid(f"invalid filter {text!r}: {raw!r} is not a number or a quoted string")
        clauses.append(_checked(Clause(entity, key, op, value), text, grammar))
    return clauses


def _checked(clause: Clause, text: str, grammar: FilterGrammar) -> Clause:
    if clause.entity == "metric" or (
        clause.entity == "attribute" and clause.key in grammar.number_attributes
    ):
        if not isinstance(clause.value, float) or clause.op not in NUMERIC_OPS:
            what = "metric" if clause.entity == "metric" else grammar.subject
            raise Invalid(
                f"{what} {clause.key!r} compares to a number with = != < <= > >= in filter {text!r}"
            )
        return clause
    if clause.entity == "attribute" and clause.key in grammar.time_attributes:
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


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """``column <op> value`` for one parsed comparison (the ops ``parse_filter`` lets through)."""
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    raise Invalid(f"unsupported comparison {op!r}")


class FilterTarget(Protocol):
    """The tables of one subject: each method answers the SQL condition for one clause."""

    def metric(self, clause: Clause) -> ColumnElement[bool]: ...

    def param(self, clause: Clause) -> ColumnElement[bool]: ...

    def tag(self, clause: Clause) -> ColumnElement[bool]: ...

    def attribute(self, clause: Clause) -> ColumnElement[bool]: ...


def compile_filter(
    text: str | None, grammar: FilterGrammar, target: FilterTarget
) -> list[ColumnElement[bool]]:
    """Parse ``text`` against ``grammar`` and compile each clause on ``target``'s tables (AND-ed)."""
    compilers = {"metric": target.metric, "param": target.param, "tag": target.tag}
    return [compilers.get(clause.entity, target.attribute)(clause) for clause in parse_filter(text, grammar)]


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
