"""Linking features from hand-written identity records: names, courtesy titles, cities, phones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from newretail.identity.features import SCHEMA, link_features

_COLUMNS = ("name", "gender", "birthday", "city", "address", "phone_masked")


def _records(*rows: dict[str, Any]) -> pa.Table:
    return pa.table(
        {
            "record_key": pa.array([10 * (i + 1) for i in range(len(rows))], pa.int64()),
            "source": pa.array([r.get("source", "app") for r in rows], pa.string()),
            **{
                c: pa.array([r.get(c) for r in rows], pa.date32() if c == "birthday" else None)
                for c in _COLUMNS
            },
        }
    )


def _one(**row: Any) -> dict[str, Any]:
    # Another record supplies the cities the input knows about.
    features = link_features(_records(row, {"city": "上海"}, {"city": "新加坡"}))
    first: dict[str, Any] = features.to_pylist()[0]
    return first


def test_chinese_names_split_into_surname_and_given_name() -> None:
    assert (_one(name="袁桂萱")["surname"], _one(name="袁桂萱")["given_name"]) == ("袁", "桂萱")
    assert (_one(name=" 李 伟 ")["surname"], _one(name=" 李 伟 ")["given_name"]) == ("李", "伟")
    compound = _one(name="欧阳娜娜")
    assert (compound["surname"], compound["given_name"]) == ("欧阳", "娜娜")
    assert _one(name="王")["given_name"] is None


def test_courtesy_names_give_surname_and_gender() -> None:
    mister = _one(source="meituan", name="王先生")
    assert (mister["surname"], mister["given_name"], mister["gender"]) == ("王", None, "M")
    madam = _one(source="eleme", name="欧阳女士")
    assert (madam["surname"], madam["given_name"], madam["gender"]) == ("欧阳", None, "F")
    # A gender the source states wins over the one a title implies.
    assert _one(name="张女士", gender="M")["gender"] == "M"


def test_latin_names_take_the_last_word_as_surname() -> None:
    tan = _one(name="Wei Ling Tan")
    assert (tan["surname"], tan["given_name"]) == ("tan", "wei ling")
    chan = _one(name="Ｇｒａｃｅ  Chan")
    assert (chan["surname"], chan["given_name"]) == ("chan", "grace")
    single = _one(name="Priya")
    assert (single["surname"], single["given_name"]) == ("priya", None)


def test_gender_keeps_f_and_m_only() -> None:
    assert _one(gender="f")["gender"] == "F"
    assert _one(gender="U")["gender"] is None
    assert _one()["gender"] is None


def test_city_comes_from_the_address_when_the_source_has_none() -> None:
    assert _one(address="上海和平路626号")["city"] == "上海"
    assert _one(address="新加坡乌节路1号")["city"] == "新加坡"
    # 杭州 is a city no record in the input names, so it is not recognised.
    assert _one(address="杭州解放路1号")["city"] is None
    assert _one(city="北京", address="上海和平路626号")["city"] == "北京"


def test_address_loses_whitespace_and_full_width_digits() -> None:
    assert _one(address=" 上海 和平路６２６号\u3000")["address"] == "上海和平路626号"
    assert _one(address="  ")["address"] is None


def test_masked_phone_of_only_stars_is_no_phone() -> None:
    assert _one(phone_masked="****")["phone_masked"] is None
    assert _one(phone_masked="")["phone_masked"] is None
    assert _one(phone_masked="１３８****１２３４")["phone_masked"] == "138****1234"
    assert _one(phone_masked="91****67")["phone_masked"] == "91****67"


def test_rows_keep_their_order_keys_and_birthdays() -> None:
    birthday = dt.date(1990, 5, 17)
    features = link_features(
        _records({"name": "王先生"}, {"name": "袁桂萱", "birthday": birthday}, {})
    )
    assert features.schema == SCHEMA
    assert features["record_key"].to_pylist() == [10, 20, 30]
    assert features["birthday"].to_pylist() == [None, birthday, None]
    assert features.to_pylist()[2]["surname"] is None


def test_no_records_give_no_rows() -> None:
    features = link_features(_records())
    assert features.schema == SCHEMA
    assert features.num_rows == 0
