"""The tag catalogue: the shipped TOML files load into valid, well-described tags, every definition
type-checks against the person feature table, and malformed definitions fail with a clear error."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter

import ibis
import pyarrow as pa
import pytest

from newretail.sim.catalog import CATEGORIES, PRODUCTS
from newretail.tags import projection
from newretail.tags.catalogue import Catalogue, InvalidTagDefinition, load_toml
from newretail.tags.person import dimensions
from newretail.tags.person_features import MODELS, PERSON_INPUTS, person_features
from newretail.tags.spec import TagSpec

SHIPPED = Catalogue.shipped()
PERSON = SHIPPED.for_entity("person")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@functools.cache
def _features_schema() -> pa.Schema:
    tables = {
        name: ibis.memtable(pa.schema([f.with_nullable(True) for f in spec.schema]).empty_table())
        for name, (_, spec) in PERSON_INPUTS.items()
    }
    return person_features(tables, as_of=dt.date(2026, 7, 1)).schema().to_pyarrow()


def _toml(body: str) -> str:
    return body.strip() + "\n"


_GOOD = """
[[tag]]
id = "orders_90d"
name_zh = "近90天订单数"
name_en = "Orders, last 90 days"
category = "behaviour"
entity = "person"
value_type = "number"
definition = "orders_90d"
description_zh = "近 90 天已完成订单数。"
description_en = "Completed orders in the last 90 days."
"""


def test_shipped_catalogue_has_over_300_described_person_tags() -> None:
    assert len(PERSON) >= 300
    assert len(set(SHIPPED.tag_ids())) == len(SHIPPED)
    for spec in PERSON:
        assert _HAN.search(spec.name_zh) and _HAN.search(spec.description_zh), spec.id
        assert spec.name_en.isascii() and len(spec.description_en) > 20, spec.id
        assert "{" not in spec.definition + spec.name_en + spec.description_zh, spec.id
    categories = Counter(spec.category for spec in PERSON)
    assert set(categories) == {
        "attribute",
        "behaviour",
        "preference",
        "lifecycle",
        "value",
        "prediction",
    }
    assert SHIPPED.tag("sms_opt_out") is not None
    assert SHIPPED.tag("churn_risk").source == "model"  # type: ignore[union-attr]


def test_bought_tags_exist_for_every_category_and_line_of_the_menu() -> None:
    assert set(dimensions.CATEGORIES) == set(CATEGORIES)
    assert {p.subcategory: p.category for p in PRODUCTS} == dimensions.LINES
    for category in dimensions.CATEGORIES:
        spec = SHIPPED.tag(f"last_bought_category_{category}")
        assert spec is not None and spec.value_type == "date"
    for line in dimensions.LINES:
        spec = SHIPPED.tag(f"last_bought_line_{line}")
        assert spec is not None and spec.value_type == "date"


def test_every_shipped_definition_type_checks_against_the_person_features() -> None:
    projection.check(PERSON, features=_features_schema(), models=MODELS)


def test_definitions_transpile_to_spark() -> None:
    sql = projection.select_sql(PERSON, key="person_id", dialect="spark")
    assert sql.startswith("SELECT `person_id`") and "DIV" in sql


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (('value_type = "number"', 'value_type = "float"'), "value_type", "not one of"),
        (('category = "behaviour"', 'category = "misc"'), "category", "not one of"),
        (('id = "orders_90d"', 'id = "Orders-90d"'), "id", "must match"),
        (('name_zh = "近90天订单数"\n', ""), "name_zh", "required"),
        (
            ('definition = "orders_90d"', 'definition = "orders_90d"\ncolour = "red"'),
            "colour",
            "unknown key",
        ),
        (('value_type = "number"', 'value_type = "enum"'), "values", "needs its values"),
        (('value_type = "number"', 'value_type = "number"\nvalues = ["a"]'), "values", "only enum"),
    ],
)
def test_malformed_tags_are_refused_with_the_field(
    change: tuple[str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidTagDefinition) as caught:
        load_toml(_toml(_GOOD.replace(*change)), name="bad.toml")
    assert caught.value.code == "tags.invalid_definition"
    assert caught.value.field == field
    assert words in caught.value.message and "bad.toml" in str(caught.value)


def test_duplicate_ids_are_refused() -> None:
    specs = [spec for spec, _ in load_toml(_toml(_GOOD))]
    with pytest.raises(InvalidTagDefinition, match="defined twice") as caught:
        Catalogue(specs + specs)
    assert caught.value.field == "id"
    with pytest.raises(InvalidTagDefinition, match="defined twice"):
        SHIPPED.with_tags([SHIPPED.specs[0]])


def test_families_expand_and_a_missing_placeholder_is_named() -> None:
    family = """
[[family]]
each = [{ w = "7", zh = "七" }, { w = "30", zh = "三十" }]
id = "orders_{w}d"
name_zh = "近{zh}天订单数"
name_en = "Orders, last {w} days"
category = "behaviour"
entity = "person"
value_type = "number"
definition = "orders_{w}d"
description_zh = "近{zh}天已完成订单数。"
description_en = "Completed orders in the last {w} days."
"""
    specs = [spec for spec, _ in load_toml(_toml(family))]
    assert [s.id for s in specs] == ["orders_7d", "orders_30d"]
    assert specs[1].name_zh == "近三十天订单数" and specs[1].definition == "orders_30d"
    with pytest.raises(InvalidTagDefinition, match=r"placeholder \{days\}") as caught:
        load_toml(
            _toml(family.replace('name_en = "Orders, last {w} days"', 'name_en = "Orders, {days}"'))
        )
    assert caught.value.field == "name_en"
    with pytest.raises(InvalidTagDefinition, match="each"):
        load_toml(
            _toml(
                family.replace(
                    'each = [{ w = "7", zh = "七" }, { w = "30", zh = "三十" }]', "each = []"
                )
            )
        )


def test_data_bound_enums_take_their_values_when_bound() -> None:
    assert SHIPPED.values_from("home_store_id") == "store_ids"
    home = SHIPPED.tag("home_store_id")
    assert home is not None and home.values == ()
    bound = SHIPPED.bind({"store_ids": ["S0001", "S0002"]}).tag("home_store_id")
    assert bound is not None and bound.values == ("S0001", "S0002")
    with pytest.raises(InvalidTagDefinition, match="only enum"):
        load_toml(
            _toml(
                _GOOD.replace(
                    'definition = "orders_90d"',
                    'definition = "orders_90d"\nvalues_from = "store_ids"',
                )
            )
        )


def _user_tag(**changes: str) -> TagSpec:
    spec = TagSpec(
        id="coffee_lover",
        name_zh="咖啡爱好者",
        name_en="Coffee lover",
        category="preference",
        entity="person",
        value_type="bool",
        definition="orders_coffee_90d >= 6",
        description_zh="近 90 天至少 6 单含咖啡。",
        description_en="Six or more orders with coffee in the last 90 days.",
    )
    return TagSpec(**{**spec.__dict__, **changes})


def test_user_tags_join_the_catalogue_and_are_checked() -> None:
    catalogue = SHIPPED.with_tags([_user_tag()])
    assert catalogue.tag_ids()[-1] == "coffee_lover" and len(catalogue) == len(SHIPPED) + 1
    assert len(SHIPPED) == len(Catalogue.shipped())  # the shipped one is unchanged
    projection.check([_user_tag()], features=_features_schema(), models=MODELS)
    with pytest.raises(InvalidTagDefinition, match="must match"):
        SHIPPED.with_tags([_user_tag(id="Coffee Lover")])


@pytest.mark.parametrize(
    ("definition", "value_type", "words"),
    [
        ("orders_coffee_90dd >= 6", "bool", "unknown feature columns"),
        ("orders_coffee_90d / 3", "number", "gives DOUBLE"),
        ("(SELECT 1)", "number", "one scalar expression"),
        ("sum(orders_90d)", "number", "one scalar expression"),
        ("orders_90d >=", "bool", "does not parse"),
        ("'coffee'", "bool", "gives VARCHAR"),
    ],
)
def test_bad_definitions_fail_the_check(definition: str, value_type: str, words: str) -> None:
    with pytest.raises(InvalidTagDefinition, match=words) as caught:
        projection.check(
            [_user_tag(definition=definition, value_type=value_type)],
            features=_features_schema(),
            models=MODELS,
        )
    assert caught.value.field == "definition" and caught.value.position == "coffee_lover"


def test_model_and_list_tags_name_what_they_read() -> None:
    with pytest.raises(InvalidTagDefinition, match="names no model"):
        projection.check(
            [_user_tag(source="model", value_type="number", definition="clv_v9")],
            features=_features_schema(),
            models=MODELS,
        )
    with pytest.raises(InvalidTagDefinition, match="list tag is a bool"):
        SHIPPED.with_tags([_user_tag(source="list", value_type="number", definition="vip")])
