"""The fields probabilistic linking compares, normalised alike for every source: name parts, gender,
birthday, city, masked phone and address."""

from __future__ import annotations

from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as _pc

# pyarrow-stubs 20 lag pyarrow 26 (no utf8_normalize) and cannot type string kernels on the
# dictionary of an encoded column, so string columns here are typed loosely, as in
# newretail.sim.text; the unit tests check their content.
Strings: TypeAlias = Any
pc: Any = _pc

# The common two-character surnames; any other Chinese name's surname is its first character.
_COMPOUND_SURNAMES = pa.array(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "令狐",
    ]
)
# Delivery platforms show only the surname and a title (王先生); the title still tells the gender.
_TITLES = pa.array(["先生", "女士", "小姐"])
_TITLE_GENDERS = pa.array(["M", "F", "F"])
_LATIN = r"^(?:(?P<given>.*\S)\s+)?(?P<surname>\S+)$"

_TYPES: dict[str, pa.DataType] = {"record_key": pa.int64(), "birthday": pa.date32()}
_NAMES = (
    "record_key",
    "source",
    "surname",
    "given_name",
    "gender",
    "birthday",
    "city",
    "phone_masked",
    "address",
)
SCHEMA = pa.schema([(name, _TYPES.get(name, pa.string())) for name in _NAMES])


def link_features(records: pa.Table) -> pa.Table:
    """One row of linking features per identity record, in the order of ``records``.

    >>> row = link_features(pa.table({"record_key": [1], "source": ["meituan"], "name": ["王先生"],
    ...     "gender": [None], "birthday": pa.array([None], pa.date32()), "city": [None],
    ...     "address": ["上海 和平路６２６号"], "phone_masked": ["138****1234"]})).to_pylist()[0]
    >>> row["surname"], row["given_name"], row["gender"], row["address"]
    ('王', None, 'M', '上海和平路626号')
    """
    # Every step works on a column's distinct values (a few hundred thousand names in millions of
    # records), then spreads the results back over the rows.
    names, name_at = _distinct(records["name"])
    surname, given, title_gender = _name_parts(_text(names))
    genders, gender_at = _distinct(records["gender"])
    stated = pc.utf8_upper(_text(genders))
    stated = _where(pc.is_in(stated, value_set=pa.array(["F", "M"])), stated)
    cities, city_at = _distinct(records["city"])
    cities = _text(cities)
    addresses, address_at = _distinct(records["address"])
    addresses = _text(addresses, spaces="")
    # Masked phones are nearly as many as records: normalised in place.
    phones = _text(_combined(records["phone_masked"]), spaces="")
    return pa.table(
        [
            records["record_key"].cast(pa.int64()),
            records["source"].cast(pa.string()),
            surname.take(name_at),
            given.take(name_at),
            pc.coalesce(stated.take(gender_at), title_gender.take(name_at)),
            records["birthday"].cast(pa.date32()),
            pc.coalesce(
                cities.take(city_at),
                _city_of(addresses, known=pc.unique(cities.drop_null())).take(address_at),
            ),
            _where(pc.invert(pc.match_substring_regex(phones, r"^\*+$")), phones),
            addresses.take(address_at),
        ],
        schema=SCHEMA,
    )


def _distinct(values: Strings) -> tuple[Strings, Strings]:
    """A column's distinct values and, per row, the index of its value among them."""
    encoded = pc.dictionary_encode(_combined(values))
    return encoded.dictionary, encoded.indices


def _combined(values: Strings) -> Strings:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string())


def _name_parts(name: Strings) -> tuple[Strings, Strings, Strings]:
    """Surname, given name and the gender a courtesy title (王先生) implies."""
    length = pc.utf8_length(name)
    latin = pc.fill_null(pc.string_is_ascii(pc.utf8_slice_codeunits(name, 0, 1)), False)
    title = pc.utf8_slice_codeunits(name, -2)
    courtesy = pc.and_(
        pc.and_(pc.invert(latin), pc.is_in(title, value_set=_TITLES)),
        pc.and_(pc.greater_equal(length, 3), pc.less_equal(length, 4)),
    )
    chinese = pc.replace_substring(name, " ", "")
    compound = pc.or_(
        pc.and_(courtesy, pc.equal(length, 4)),
        pc.and_(
            pc.is_in(pc.utf8_slice_codeunits(chinese, 0, 2), value_set=_COMPOUND_SURNAMES),
            pc.greater_equal(pc.utf8_length(chinese), 3),
        ),
    )
    surname = pc.if_else(
        compound, pc.utf8_slice_codeunits(chinese, 0, 2), pc.utf8_slice_codeunits(chinese, 0, 1)
    )
    given = pc.if_else(
        compound, pc.utf8_slice_codeunits(chinese, 2), pc.utf8_slice_codeunits(chinese, 1)
    )
    given = _where(pc.invert(courtesy), given)
    # Latin names are few, so the regex that splits them runs on them alone.
    at = pc.indices_nonzero(latin)
    western = pc.extract_regex(pc.utf8_lower(name.take(at)), _LATIN)
    surname = pc.replace_with_mask(surname, latin, pc.struct_field(western, "surname"))
    given = pc.replace_with_mask(given, latin, pc.struct_field(western, "given"))
    gender = _TITLE_GENDERS.take(pc.index_in(_where(courtesy, title), value_set=_TITLES))
    return _blank_to_null(surname), _blank_to_null(given), gender


def _city_of(address: Strings, *, known: Strings) -> Strings:
    """The longest known city an address starts with (addresses are written city first)."""
    found = pa.nulls(len(address), pa.string())
    lengths = pc.utf8_length(known)
    for length in sorted(set(lengths.to_pylist()), reverse=True):
        prefix = pc.utf8_slice_codeunits(address, 0, length)
        cities = known.filter(pc.equal(lengths, length))
        found = pc.coalesce(found, _where(pc.is_in(prefix, value_set=cities), prefix))
    return found


def _text(values: Strings, *, spaces: str = " ") -> Strings:
    """NFKC (full-width digits, letters and spaces become ASCII), runs of whitespace replaced by
    ``spaces``, trimmed; blank becomes null."""
    text = pc.utf8_normalize(values, form="NFKC")
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", spaces))
    return _blank_to_null(text)


def _blank_to_null(values: Strings) -> Strings:
    return _where(pc.not_equal(values, ""), values)


def _where(keep: Strings, values: Strings) -> Strings:
    """``values`` where ``keep`` is true, else null."""
    return pc.if_else(pc.fill_null(keep, False), values, pa.scalar(None, values.type))
