"""A small person and store vocabulary (one tag of each value type and the BOUGHT date tags) and
hypothesis strategies for expression trees: any well-formed tree, and trees that type-check."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from newretail.audience.check import SpecVocabulary
from newretail.audience.expression import (
    BOUGHT_KINDS,
    INT_MAX,
    INT_MIN,
    MAX_DAYS,
    OPS,
    And,
    Between,
    Bought,
    Compare,
    DaysAgo,
    Expr,
    InList,
    InStores,
    IsNull,
    Not,
    Or,
    Value,
)
from newretail.tags.spec import Category, Entity, TagSpec, ValueType

AS_OF = dt.date(2026, 5, 1)
STORE_IDS = ("s1", "s2", "s3", "s4", "s5")


def spec(
    tag_id: str, value_type: ValueType, values: tuple[str, ...] = (), entity: Entity = "person"
) -> TagSpec:
    category: Category = "store" if entity == "store" else "attribute"
    return TagSpec(tag_id, tag_id, tag_id, category, entity, value_type, "", "", "", values=values)


PERSON_SPECS = (
    spec("vip", "bool"),
    spec("sms_opt_out", "bool"),
    spec("lifecycle", "enum", ("new", "active", "lapsing", "lost")),
    spec("home_store", "enum"),  # store ids: no fixed domain
    spec("orders_90d", "number"),
    spec("spend_90d", "number"),
    spec("last_order", "date"),
    spec("last_bought_category_coffee", "date"),
    spec("last_bought_category_tea", "date"),
    spec("last_bought_line_latte", "date"),
)
STORE_SPECS = (
    spec("city", "enum", ("Shanghai", "Beijing", "Hangzhou"), "store"),
    spec("format", "enum", ("pickup", "flagship"), "store"),
    spec("open_late", "bool", entity="store"),
    spec("area_sqm", "number", entity="store"),
    spec("opened", "date", entity="store"),
)
PERSONS = SpecVocabulary(PERSON_SPECS)
STORES = SpecVocabulary(STORE_SPECS)

# --- any well-formed tree (for the round trips) ------------------------------------------------

# Reserved words of the text form: a tag cannot be named like one.
_KEYWORDS = frozenset(
    {"or", "and", "not", "in", "is", "null", "between", "stores", "bought", "date", "days_ago"}
    | {"true", "false"}
)
# Any text a literal may hold: no NUL, no unpaired surrogates.
strings = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
tag_ids = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda t: t not in _KEYWORDS
)
any_values: st.SearchStrategy[Value] = st.one_of(
    st.booleans(),
    st.integers(INT_MIN, INT_MAX),
    strings,
    st.dates(),
    st.builds(DaysAgo, st.integers(0, MAX_DAYS)),
)


def _any_leaves(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Compare, tag_ids, st.sampled_from(OPS), any_values),
        st.builds(
            InList, tag_ids, st.lists(any_values, min_size=1, max_size=3).map(tuple), st.booleans()
        ),
        st.builds(Between, tag_ids, any_values, any_values),
        st.builds(IsNull, tag_ids, st.booleans()),
        st.builds(InStores, tag_ids, inner),
        st.builds(Bought, st.sampled_from(BOUGHT_KINDS), strings, st.integers(1, MAX_DAYS)),
    )


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(st.builds(And, operands), st.builds(Or, operands), st.builds(Not, children))


def _flat_leaves() -> st.SearchStrategy[Expr]:
    return _any_leaves(st.builds(IsNull, tag_ids, st.booleans()))


any_expressions: st.SearchStrategy[Expr] = st.recursive(
    _flat_leaves(),
    lambda children: st.one_of(_combine(children), st.builds(InStores, tag_ids, children)),
    max_leaves=8,
)

# --- trees that type-check against the vocabulary (for evaluation) ------------------------------

_NUMBERS = st.integers(-3, 12)
_DATES = st.one_of(
    st.dates(dt.date(2026, 3, 1), dt.date(2026, 5, 10)), st.builds(DaysAgo, st.integers(0, 60))
)


def _typed_values(value_type: ValueType, domain: tuple[str, ...]) -> st.SearchStrategy[Value]:
    if value_type == "bool":
        return st.booleans()
    if value_type == "number":
        return _NUMBERS
    if value_type == "date":
        return _DATES
    return st.sampled_from(domain)


def _typed_leaf(tag: TagSpec, domain: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    values = _typed_values(tag.value_type, domain)
    lists = st.lists(values, min_size=1, max_size=3).map(tuple)
    ops = OPS if tag.value_type in ("number", "date") else ("=", "!=")
    options: list[st.SearchStrategy[Expr]] = [
        st.builds(Compare, st.just(tag.id), st.sampled_from(ops), values),
        st.builds(InList, st.just(tag.id), lists, st.booleans()),
        st.builds(IsNull, st.just(tag.id), st.booleans()),
    ]
    if tag.value_type in ("number", "date"):
        options.append(st.builds(Between, st.just(tag.id), values, values))
    return st.one_of(options)


def _typed_leaves(specs: tuple[TagSpec, ...]) -> st.SearchStrategy[Expr]:
    leaves = [
        _typed_leaf(s, s.values or (*STORE_IDS, "s9"))
        for s in specs
        if not s.id.startswith("last_bought_")
    ]
    return st.one_of(leaves)


def _boolean(leaves: st.SearchStrategy[Expr], max_leaves: int) -> st.SearchStrategy[Expr]:
    return st.recursive(leaves, _combine, max_leaves=max_leaves)


store_expressions = _boolean(_typed_leaves(STORE_SPECS), 4)
_person_leaves = st.one_of(
    _typed_leaves(PERSON_SPECS),
    st.builds(
        Bought,
        st.just("category"),
        st.sampled_from(("coffee", "tea")),
        st.integers(1, 60),
    ),
    st.builds(Bought, st.just("line"), st.just("latte"), st.integers(1, 60)),
    st.builds(InStores, st.just("home_store"), store_expressions),
    st.builds(InStores, st.just("home_store"), store_expressions),  # twice: a fair share
)
person_expressions = _boolean(_person_leaves, 6)
