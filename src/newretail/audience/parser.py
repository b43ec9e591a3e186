"""Text → expression tree, with the character position of every tag and value kept for errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lark import Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from newretail.audience.errors import ExpressionError, Site
from newretail.audience.expression import (
    ISO_DATE,
    MAX_DEPTH,
    TAG_ID,
    And,
    Between,
    Bought,
    BoughtKind,
    Compare,
    DaysAgo,
    Expr,
    InList,
    InStores,
    IsNull,
    Not,
    Or,
    Sites,
    Value,
    days_problem,
    value_problem,
)
from newretail.audience.grammar import TERMINAL_NAMES, parser

_WHITESPACE = " \t\r\n"
_STRUCTURAL = frozenset({"or_expr", "and_expr", "not_", "in_stores"})
_LEAVES = frozenset(
    {
        "flag",
        "compare",
        "in_list",
        "not_in_list",
        "between",
        "is_null",
        "is_not_null",
        "in_stores",
        "bought",
    }
)
_BOUGHT_USAGE = "BOUGHT takes (category = '...', days = N) or (line = '...', days = N)"


def parse(text: str) -> Expr:
    """Parse an audience expression; raises only ``ExpressionError``.

    >>> parse("orders_90d >= 3 AND NOT sms_opt_out")
    And(operands=(Compare(tag='orders_90d', op='>=', value=3), Not(operand=Compare(tag='sms_opt_out', op='=', value=True))))
    """
    if not text.strip(_WHITESPACE):
        raise ExpressionError("audience.empty", "the expression is empty", site=_at(text, 0))
    try:
        tree = parser().parse(text)
    except UnexpectedInput as e:
        raise _syntax_error(text, e) from None
    except LarkError as e:  # pragma: no cover - Lark raises UnexpectedInput for bad input
        raise ExpressionError("audience.syntax", f"cannot parse the expression: {e}") from None
    _check_depth(text, tree)
    return _Builder(text).expr(tree)


def _at(text: str, offset: int) -> Site:
    return Site.in_text(text, offset)


def _syntax_error(text: str, e: UnexpectedInput) -> ExpressionError:
    expected: Iterable[str] = ()
    if isinstance(e, UnexpectedCharacters):
        offset = e.pos_in_stream or 0
        char = text[offset] if offset < len(text) else ""
        what = "unterminated string" if char == "'" else f"unexpected character {char!r}"
        expected = _accepted_after(text[:offset])
    elif isinstance(e, UnexpectedToken):
        token = e.token
        if token.type == "$END":
            offset, what = len(text), "unexpected end of the expression"
        else:
            offset, what = token.start_pos or 0, f"unexpected {str(token)!r}"
        expected = e.accepts or e.expected
    elif isinstance(e, UnexpectedEOF):
        offset, what = len(text), "unexpected end of the expression"
        expected = e.expected
    else:  # pragma: no cover - the three above are all Lark raises
        offset, what = 0, "cannot parse the expression"
    hints = [name for terminal, name in TERMINAL_NAMES.items() if terminal in set(expected)]
    shown = (f"'{h}'" if len(h) == 1 else h for h in hints)
    message = what + ("; expected " + ", ".join(shown) if hints else "")
    return ExpressionError("audience.syntax", message, site=_at(text, offset), hints=hints)


def _accepted_after(prefix: str) -> set[str]:
    """The terminals the parser accepts after ``prefix`` (the basic lexer cannot say)."""
    try:
        interactive = parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
        return set(interactive.accepts())  # type: ignore[no-untyped-call]
    except LarkError:
        return set()


def _start(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    return getattr(node.meta, "start_pos", 0)


def _check_depth(text: str, tree: Tree[Token]) -> None:
    """Reject nesting beyond MAX_DEPTH before any recursion over the tree (an explicit stack)."""
    stack: list[tuple[Tree[Token], int, int]] = [(tree, 1, 0)]
    while stack:
        node, level, parens = stack.pop()
        if node.data == "group" or node.data == "in_stores":
            parens += 1
        if level > MAX_DEPTH or parens > MAX_DEPTH:
            raise ExpressionError(
                "audience.too_deep",
                f"the expression nests deeper than {MAX_DEPTH} levels",
                site=_at(text, _start(node)),
            )
        if node.data in _LEAVES and node.data != "in_stores":
            continue
        step = 1 if node.data in _STRUCTURAL else 0
        stack.extend((c, level + step, parens) for c in node.children if isinstance(c, Tree))


class _Builder:
    """Turns the (depth-checked) parse tree into the expression tree."""

    def __init__(self, text: str) -> None:
        self.text = text

    def expr(self, node: Tree[Token]) -> Expr:
        kind, kids = node.data, node.children
        if kind == "group":
            return self.expr(_tree(kids[0]))
        if kind == "or_expr":
            return Or(tuple(self.expr(_tree(k)) for k in kids))
        if kind == "and_expr":
            return And(tuple(self.expr(_tree(k)) for k in kids))
        if kind == "not_":
            return Not(self.expr(_tree(kids[0])))
        if kind == "bought":
            return self.bought(_tree(kids[0]), _tree(kids[1]))
        tag, subject = self.tag(_token(kids[0]))
        if kind == "flag":
            return Compare(tag, "=", True, sites=Sites(subject))
        if kind == "is_null" or kind == "is_not_null":
            return IsNull(tag, negated=kind == "is_not_null", sites=Sites(subject))
        if kind == "in_stores":
            return InStores(tag, self.expr(_tree(kids[1])), sites=Sites(subject))
        literals = [_tree(k) for k in kids[1:] if isinstance(k, Tree)]
        values = tuple(self.value(k) for k in literals)
        sites = Sites(subject, tuple(_at(self.text, _start(k)) for k in literals))
        if kind == "compare":
            op = str(_token(kids[1]))
            return Compare(tag, op, values[0], sites=sites)  # type: ignore[arg-type]
        if kind == "between":
            return Between(tag, values[0], values[1], sites=sites)
        return InList(tag, values, negated=kind == "not_in_list", sites=sites)

    def tag(self, token: Token) -> tuple[str, Site]:
        site = _at(self.text, _start(token))
        name = str(token)
        if not TAG_ID.fullmatch(name):
            raise ExpressionError(
                "audience.syntax",
                f"tag ids are lowercase: {name!r}",
                site=site,
                hints=[name.lower()],
            )
        return name, site

    def value(self, node: Tree[Token]) -> Value:
        site = _at(self.text, _start(node))
        raw = str(_token(node.children[0]))
        value: Value
        match node.data:
            case "string":
                value = raw[1:-1].replace("''", "'")
            case "true" | "false":
                value = node.data == "true"
            case "integer" | "days_ago":
                number = _integer(raw, site)
                value = number if node.data == "integer" else DaysAgo(number)
            case _:  # date
                value = _date(raw[1:-1], site)
        problem = value_problem(value)
        if problem:
            raise ExpressionError("audience.invalid_value", problem, site=site)
        return value

    def bought(self, first: Tree[Token], second: Tree[Token]) -> Bought:
        args: dict[str, tuple[Value, Site, Site]] = {}
        for arg in (first, second):
            name, op, literal = _token(arg.children[0]), arg.children[1], _tree(arg.children[2])
            site = _at(self.text, _start(name))
            if str(name) not in ("category", "line", "days") or str(name) in args:
                raise ExpressionError(
                    "audience.syntax",
                    f"{_BOUGHT_USAGE}; not {str(name)!r}",
                    site=site,
                    hints=["category", "line", "days"],
                )
            if str(op) != "=":
                raise ExpressionError(
                    "audience.syntax", _BOUGHT_USAGE, site=_at(self.text, _start(_token(op)))
                )
            args[str(name)] = (self.value(literal), site, _at(self.text, _start(literal)))
        kinds = [k for k in ("category", "line") if k in args]
        if len(kinds) != 1 or "days" not in args:
            raise ExpressionError("audience.syntax", _BOUGHT_USAGE, site=_at(self.text, 0))
        kind: BoughtKind = "category" if "category" in args else "line"
        value, _, value_site = args[kind]
        days, _, days_site = args["days"]
        if not isinstance(value, str):
            raise ExpressionError(
                "audience.type_mismatch", f"BOUGHT's {kind} is a 'string'", site=value_site
            )
        if not isinstance(days, int) or isinstance(days, bool):
            raise ExpressionError(
                "audience.type_mismatch", "BOUGHT's days is an integer", site=days_site
            )
        problem = days_problem(days)
        if problem:
            raise ExpressionError("audience.invalid_value", problem, site=days_site)
        return Bought(kind, value, days, sites=Sites(value_site, (days_site,)))


def _tree(node: Tree[Token] | Token) -> Tree[Token]:
    assert isinstance(node, Tree)
    return node


def _token(node: Tree[Token] | Token) -> Token:
    assert isinstance(node, Token)
    return node


def _integer(raw: str, site: Site) -> int:
    # Python refuses int() on very long digit strings; anything past 20 characters is out of range.
    if len(raw) > 20:
        raise ExpressionError(
            "audience.invalid_value", f"{raw[:24]}… does not fit in a 64-bit integer", site=site
        )
    return int(raw)


def _date(raw: str, site: Site) -> dt.date:
    if ISO_DATE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise ExpressionError(
        "audience.invalid_value", f"DATE takes 'YYYY-MM-DD', not {raw!r}", site=site
    )
