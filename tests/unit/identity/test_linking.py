"""Probabilistic linking on a small hand-built chain: a delivery record (surname, courtesy title,
masked phone) joins the one person its masked phone and surname point to, and joins nobody when
a family of that surname and city shares the phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from newretail.identity.features import link_features
from newretail.identity.linking import LinkSettings, predict_pairs, train_model

SETTINGS = LinkSettings()
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
_CITIES = ("上海", "北京", "广州")
_PEOPLE = 300


def _person(
    i: int, name: str, gender: str, birthday: dt.date, city: str, phone: str
) -> list[dict[str, Any]]:
    """An app account and a POS card (one deterministic cluster), and a delivery account."""
    title = "先生" if gender == "M" else "女士"
    own = {"name": name, "gender": gender, "birthday": birthday, "city": city}
    return [
        {"source": "app", "cluster": i, **own, "phone_masked": phone},
        {"source": "pos", "cluster": i, **own, "phone_masked": phone},
        {
            "source": "meituan",
            "cluster": -1,
            "name": name[0] + title,
            "address": f"{city}人民路{i + 1}号",
            "phone_masked": phone,
        },
    ]


def _population() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(_PEOPLE):
        name = _SURNAMES[i % 30] + _GIVEN[i // 30 % 20] + _GIVEN[i % 20]
        rows += _person(
            i,
            name,
            "FM"[i % 2],
            dt.date(1970, 1, 1) + dt.timedelta(days=97 * i),
            _CITIES[i % 3],
            f"13{i % 10}****{i:04d}",
        )
    return rows


def _link(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], pa.Table]:
    """``rows`` with their record keys, and the pairs the model trained on them accepts."""
    columns = ("source", "name", "gender", "birthday", "city", "address", "phone_masked")
    keyed = [{**row, "record_key": k} for k, row in enumerate(rows)]
    records = pa.table(
        {
            "record_key": pa.array([r["record_key"] for r in keyed], pa.int64()),
            **{
                c: pa.array(
                    [r.get(c) for r in keyed], pa.date32() if c == "birthday" else pa.string()
                )
                for c in columns
            },
        }
    )
    # A delivery account is a cluster of its own, in the pool.
    cluster = np.array(
        [r["cluster"] if r["cluster"] >= 0 else 1000 + r["record_key"] for r in keyed]
    )
    pool = np.array([r["cluster"] < 0 for r in keyed])
    features = link_features(records)
    model = train_model(features, cluster, settings=SETTINGS)
    pairs = predict_pairs(features, cluster, pool, model, settings=SETTINGS)
    accepted = pairs.filter(pa.compute.greater_equal(pairs["match_probability"], 0.95))
    return keyed, accepted


def _partners(keyed: list[dict[str, Any]], accepted: pa.Table, key: int) -> set[str]:
    """Names of the records accepted as the same person as record ``key``."""
    found = set()
    for left, right in zip(
        accepted["record_key_l"].to_pylist(), accepted["record_key_r"].to_pylist(), strict=True
    ):
        if key in (left, right):
            found.add(str(keyed[right if left == key else left]["name"]))
    return found


@pytest.fixture(scope="module")
def linked() -> tuple[list[dict[str, Any]], pa.Table]:
    rows = _population()
    # A family: 田轩 and her sister 田文东 share one phone in one city, and a delivery account
    # (田女士) orders with it. Who of the two it is, nothing tells.
    family = "139****8888"
    rows += _person(900, "田轩", "F", dt.date(1997, 7, 13), "上海", family)[:2]
    rows += _person(901, "田文东", "F", dt.date(1990, 1, 29), "上海", family)
    # Two people of one surname on one masked number by chance, a man and a woman: the title of
    # the delivery account (韦先生) tells which.
    chance = "130****6200"
    rows += _person(902, "韦轩浩", "M", dt.date(1973, 1, 24), "上海", chance)
    rows += _person(903, "韦然雨", "F", dt.date(1995, 9, 24), "上海", chance)[:2]
    return _link(rows)


def test_a_delivery_record_joins_the_person_its_masked_phone_points_to(
    linked: tuple[list[dict[str, Any]], pa.Table],
) -> None:
    keyed, accepted = linked
    delivery = [r["record_key"] for r in keyed if r["source"] == "meituan" and r["cluster"] < 0]
    joined = sum(1 for key in delivery[:_PEOPLE] if _partners(keyed, accepted, key))
    assert joined >= 0.9 * _PEOPLE


def test_a_family_phone_links_no_delivery_record_to_either_member(
    linked: tuple[list[dict[str, Any]], pa.Table],
) -> None:
    keyed, accepted = linked
    (madam,) = [r["record_key"] for r in keyed if r["name"] == "田女士"]
    assert _partners(keyed, accepted, madam) == set()


def test_a_title_tells_apart_two_people_sharing_a_masked_phone(
    linked: tuple[list[dict[str, Any]], pa.Table],
) -> None:
    keyed, accepted = linked
    (mister,) = [r["record_key"] for r in keyed if r["name"] == "韦先生"]
    assert _partners(keyed, accepted, mister) == {"韦轩浩"}
