"""The row-expression language of dataset rules: a tiny grammar, parsed into a tree, never run as Python.

An expression is a condition every row must meet, e.g. ``jitter_ms >= 0``,
``latency_ms < 5 * jitter_ms + 100 or packet_loss_pct == 0``, ``site in ['par', 'lon']``,
``not (utilization_pct > 100)``. The grammar, and nothing more:

- column names, and literals: numbers, quoted strings, ``True``/``False``;
- arithmetic ``+ - * /`` and unary minus on numbers;
- comparisons ``== != < <= > >=`` (chains such as ``0 <= x < 10`` too) between a column and a literal
  or another column; a datetime column compares with an ISO 8601 string;
- ``in [...]`` / ``not in [...]`` with a list of literals;
- ``and``, ``or``, ``not`` and parentheses.

Python's own parser (``ast``) reads the text, and a whitelist turns the few node types above into
this module's tree; anything else (calls, attributes, indexing, lambdas, comprehensions, ...) is
refused with what it was. The text is never compiled nor evaluated, so ``__import__('os')`` is
just a refused call. Pure Python: no pandas (the rules schema is importable without it).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from kiln.data.spec import ColumnType

MAX_LENGTH = 1_000
MAX_NODES = 200

Scalar: TypeAlias = int | float | str | bool
ArithmeticOp: TypeAlias = Literal["+", "-", "*", "/"]
ComparisonOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]
ValueKind: TypeAlias = Literal["number", "string", "boolean", "datetime"]


class ExpressionError(ValueError):
    """The expression is not part of the language, or does not fit the dataset's columns."""


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Constant:
    value: Scalar


@dataclass(frozen=True)
class Arithmetic:
    op: ArithmeticOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Negate:
    operand: Expr


@dataclass(frozen=True)
class Comparison:
    op: ComparisonOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList:
    operand: Expr
    values: tuple[Scalar, ...]
    negated: bool


@dataclass(frozen=True)
class Logical:
    op: Literal["and", "or"]
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr: TypeAlias = Column | Constant | Arithmetic | Negate | Comparison | InList | Logical | Not

_ARITHMETIC: dict[type[ast.operator], ArithmeticOp] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}
_COMPARISONS: dict[type[ast.cmpop], ComparisonOp] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
# What a refused node is called in the error, so the author knows what to take out.
_REFUSED = {
    ast.Call: "function calls",
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment",
    ast.JoinedStr: "f-strings",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Starred: "unpacking",
    ast.Await: "await",
}
_GRAMMAR = "columns, literals, + - * /, comparisons, in [...], and/or/not"


def parse_expression(text: str) -> Expr:
    """The tree of ``text``, or ``ExpressionError`` saying what in it is not part of the language."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"is not a valid expression ({error.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("is not a valid expression") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(f"has {nodes} parts; at most {MAX_NODES} are allowed")
    return _convert(tree.body)


def _convert(node: ast.expr) -> Expr:
    if isinstance(node, ast.Name):
        return Column(node.id)
    if isinstance(node, ast.Constant):
        return Constant(_scalar(node))
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return Arithmetic(_ARITHMETIC[type(node.op)], _convert(node.left), _convert(node.right))
    if isinstance(node, ast.UnaryOp):
        return _unary(node)
    if isinstance(node, ast.BoolOp):
        op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
        return Logical(op, tuple(_convert(value) for value in node.values))
    if isinstance(node, ast.Compare):
        return _compare(node)
    raise ExpressionError(f"uses {_refused_name(node)}, which rules do not allow; use {_GRAMMAR}")


def _refused_name(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.List | ast.Tuple):
        return "a list outside `in [...]`"
    return _REFUSED.get(type(node), type(node).__name__)


def _scalar(node: ast.Constant) -> Scalar:
    value = node.value
    if value is None:
        raise ExpressionError("uses None; a not-null rule checks for missing values")
    if not isinstance(value, bool | int | float | str):
        raise ExpressionError(f"uses the literal {value!r}; use numbers, quoted strings, True or False")
    return value


def _unary(node: ast.UnaryOp) -> Expr:
    operand = _convert(node.operand)
    if isinstance(node.op, ast.Not):
        return Not(operand)
    if isinstance(node.op, ast.UAdd):
        return operand
    if isinstance(node.op, ast.USub):
        value = operand.value if isinstance(operand, Constant) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Constant(-value)
        return Negate(operand)
    raise ExpressionError("uses the operator ~, which rules do not allow; use not")


def _compare(node: ast.Compare) -> Expr:
    parts: list[Expr] = []
    left = _convert(node.left)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn):
            parts.append(InList(left, _literal_list(right_node), isinstance(op, ast.NotIn)))
            continue
        if type(op) not in _COMPARISONS:
            raise ExpressionError(
                "uses `is`; compare with == or !=, and check missing values with a not-null rule"
            )
        right = _convert(right_node)
        parts.append(Comparison(_COMPARISONS[type(op)], left, right))
        left = right
    return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))


def _literal_list(node: ast.expr) -> tuple[Scalar, ...]:
    if not isinstance(node, ast.List | ast.Tuple):
        raise ExpressionError("uses `in` without a list; write `column in [1, 2]` or `site in ['a', 'b']`")
    values: list[Scalar] = []
    for item in node.elts:
        converted = _convert(item)
        if not isinstance(converted, Constant):
            raise ExpressionError("lists after `in` may hold literals only (numbers, strings, True, False)")
        values.append(converted.value)
    if not values:
        raise ExpressionError("uses `in []`, an empty list")
    return tuple(values)


def referenced_columns(expr: Expr) -> list[str]:
    """The columns ``expr`` reads, in order of first use."""
    names: list[str] = []
    for node in _walk(expr):
        if isinstance(node, Column) and node.name not in names:
            names.append(node.name)
    return names


def _walk(expr: Expr) -> list[Expr]:
    children: tuple[Expr, ...] = ()
    if isinstance(expr, Arithmetic | Comparison):
        children = (expr.left, expr.right)
    elif isinstance(expr, Negate | Not | InList):
        children = (expr.operand,)
    elif isinstance(expr, Logical):
        children = expr.operands
    return [expr, *(node for child in children for node in _walk(child))]


# ---------------------------------------------------------------- fitting the columns

_KIND_OF_TYPE: dict[ColumnType, ValueKind] = {
    ColumnType.integer: "number",
    ColumnType.number: "number",
    ColumnType.string: "string",
    ColumnType.category: "string",
    ColumnType.boolean: "boolean",
    ColumnType.datetime: "datetime",
}


def check_expression(expr: Expr, types: Mapping[str, ColumnType]) -> None:
    """``ExpressionError`` unless every column exists and every operation fits its operands' types,
    and the whole is a condition (true or false per row)."""
    unknown = [name for name in referenced_columns(expr) if name not in types]
    if unknown:
        raise ExpressionError(f"uses the column `{unknown[0]}`, which the schema does not declare")
    if _kind(expr, types) != "boolean":
        raise ExpressionError("is not a condition; compare it, e.g. `latency_ms < 1000`")


def _kind(expr: Expr, types: Mapping[str, ColumnType]) -> ValueKind:
    if isinstance(expr, Column):
        return _KIND_OF_TYPE[types[expr.name]]
    if isinstance(expr, Constant):
        return _literal_kind(expr.value)
    operands: tuple[Expr, ...]
    if isinstance(expr, Arithmetic | Negate):
        operands = (expr.left, expr.right) if isinstance(expr, Arithmetic) else (expr.operand,)
        for operand in operands:
            if _kind(operand, types) != "number":
                raise ExpressionError(f"uses arithmetic on {_describe(operand)}, which is not a number")
        return "number"
    if isinstance(expr, Logical | Not):
        operands = expr.operands if isinstance(expr, Logical) else (expr.operand,)
        for operand in operands:
            if _kind(operand, types) != "boolean":
                raise ExpressionError(f"uses and/or/not on {_describe(operand)}, which is not a condition")
        return "boolean"
    if isinstance(expr, InList):
        kind = _kind(expr.operand, types)
        for value in expr.values:
            _check_comparable(kind, _literal_kind(value), Constant(value), "in")
        return "boolean"
    left, right = _kind(expr.left, types), _kind(expr.right, types)
    _check_comparable(left, right, expr.right, expr.op)
    _check_comparable(right, left, expr.left, expr.op)
    if left == "boolean" and right == "boolean" and expr.op not in ("==", "!="):
        raise ExpressionError(f"orders true/false values with {expr.op}; use == or !=")
    return "boolean"


def _check_comparable(kind: ValueKind, other: ValueKind, other_expr: Expr, op: str) -> None:
    if kind == other:
        return
    if kind == "datetime" and isinstance(other_expr, Constant) and isinstance(other_expr.value, str):
        try:
            datetime.fromisoformat(other_expr.value)
        except ValueError:
            raise ExpressionError(
                f"compares a datetime with {other_expr.value!r}, which is not an ISO 8601 date or time"
            ) from None
        return
    if kind == "string" and other == "datetime":
        return  # judged from the datetime side
    raise ExpressionError(f"compares a {kind} with {_describe(other_expr)} ({other}) using {op}")


def _literal_kind(value: Scalar) -> ValueKind:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


def _describe(expr: Expr) -> str:
    if isinstance(expr, Column):
        return f"the column `{expr.name}`"
    if isinstance(expr, Constant):
        return repr(expr.value)
    return "a sub-expression"
