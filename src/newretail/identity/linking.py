"""Probabilistic linking with Splink: scored pairs of records that name, gender, birthday, city,
masked phone and address say are one person, for the records strong identifiers left in the pool."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
from splink import Linker, SettingsCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.comparison_library import CustomComparison
from splink.internals.database_api import DatabaseAPISubClass

from newretail.errors import InvalidInput

_PAIR_TYPES: dict[str, pa.DataType] = {
    "record_key_l": pa.int64(),
    "record_key_r": pa.int64(),
    "match_weight": pa.float64(),
    "match_probability": pa.float64(),
}
PAIRS = pa.schema(_PAIR_TYPES)


@dataclass(frozen=True)
class LinkSettings:
    """Thresholds and training budgets of the probabilistic stage."""

    # Probabilities err low on small chains (a rare full name's frequency counts the person's own
    # records); 99.6% or more of the pairs at 0.95 were true from 2k to 200k members.
    accept_probability: float = 0.95
    review_probability: float = 0.80
    max_pairs_for_u: float = 2e6
    max_pairs_for_em: float = 1e6
    # m comes from pairs within deterministic clusters; past this many records a random share of
    # the clusters shows the same variation.
    max_label_records: int = 1_000_000
    # Labels are finite: no level is impossible for a true match, nor agreement for a random pair.
    min_m_probability: float = 1e-3
    seed: int = 42


# Written on the name's parts: Splink leaves out of an EM session every comparison that reads a
# column its blocking rule does (full_name, for the prior).
_SAME_NAME = "surname_l = surname_r and given_name_l = given_name_r"
# A mistyped last character of a given name of two or more characters; in a one-character given
# name one edit is simply another name.
_TYPO = (
    "surname_l = surname_r and levenshtein(given_name_l, given_name_r) <= 1"
    " and length(given_name_l) >= 2 and length(given_name_r) >= 2"
)


def _full_name() -> CustomComparison:
    # The whole name is one comparison: surname and given name are far from independent (a Latin
    # given name comes with a Latin surname), so the frequency of the full name is the evidence.
    same_surname = "surname_l = surname_r"
    return CustomComparison(
        [
            cll.NullLevel("full_name"),
            cll.ExactMatchLevel("full_name", term_frequency_adjustments=True),
            cll.CustomLevel(_TYPO),
            # A typo in a one-character given name changes all of it (邵远, 邵浩).
            cll.CustomLevel(
                f"{same_surname} and length(given_name_l) = 1 and length(given_name_r) = 1"
            ),
            cll.CustomLevel(same_surname),
            cll.ElseLevel(),
        ],
        output_column_name="full_name",
    )


def _courtesy_surname() -> CustomComparison:
    # A courtesy name (王先生) gives the surname alone; between two full names it says nothing
    # more than the full-name comparison already does.
    return CustomComparison(
        [
            cll.CustomLevel(
                "surname_l IS NULL OR surname_r IS NULL"
                " OR (full_name_l IS NOT NULL AND full_name_r IS NOT NULL)"
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
            cll.ElseLevel(),
        ],
        output_column_name="surname",
    )


def _exact(column: str, *, tf: bool = False) -> CustomComparison:
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, tf),
        cll.ElseLevel(),
    ]
    return CustomComparison(levels, output_column_name=column)


def _masked_phone() -> CustomComparison:
    # A masked number that people of one surname and city share (a family's phone) cannot tell
    # which of them a record is: agreeing on it is no evidence, as if it were missing, unless
    # the full names agree too (王建国 and his son 王建明 are one typo apart).
    return CustomComparison(
        [
            cll.NullLevel("phone_masked"),
            cll.CustomLevel(
                "phone_masked_l = phone_masked_r AND (phone_shared_l OR phone_shared_r)"
                f" AND NOT coalesce({_SAME_NAME}, false)"
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("phone_masked", term_frequency_adjustments=True),
            cll.ElseLevel(),
        ],
        output_column_name="phone_masked",
    )


def _model() -> SettingsCreator:
    # Term frequencies: a masked number, birthday or address many records share (a cashier's
    # default number, 1990-01-01, an office tower) says little.
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            _full_name(),
            _courtesy_surname(),
            _exact("gender"),
            _exact("birthday", tf=True),
            _exact("city"),
            _masked_phone(),
            _exact("address", tf=True),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


# Only platform records carry an address and they all sit in the pool, so no cluster shows how
# addresses vary: that is learnt by EM over pairs across clusters sharing surname and number.
_ADDRESS_RULE = (
    "l.surname = r.surname and l.phone_masked = r.phone_masked and l.cluster <> r.cluster"
)
# The share of all pairs that match, read off how many same-name pairs are matches.
_PRIOR_RULE = "l.full_name = r.full_name"
# Each rule pairs records sharing these fields. Only pairs across clusters with a pool record on
# at least one side are wanted; the condition is part of every join, so others are never scored.
_BLOCKS = (
    ("surname", "phone_masked"),
    ("full_name", "city"),
    ("surname", "birthday"),
    ("surname", "address"),
)
_WANTED = "l.cluster <> r.cluster and (l.in_pool or r.in_pool)"


def _blocking_rules() -> list[str]:
    return [" and ".join([*(f"l.{c} = r.{c}" for c in cols), _WANTED]) for cols in _BLOCKS]


def train_model(
    features: pa.Table,
    clusters: pa.Array[Any] | np.ndarray,
    *,
    backend: str = "duckdb",
    settings: LinkSettings,
) -> dict[str, Any]:
    """Train a Splink model on ``features`` (from ``link_features``); ``clusters`` holds each
    record's deterministic cluster. Returns the model as Splink's JSON-ready settings dict."""
    table = _model_input(features, clusters)
    table = table.append_column("label", _sampled_labels(table["cluster"], settings))
    with _quiet():
        db_api = _db_api(backend)
        data = db_api.register(table)
        linker = Linker(data, _model(), log_level=None)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=settings.max_pairs_for_u, seed=settings.seed
        )
        # m: how names, genders, cities and birthdays vary within one person.
        linker.training.estimate_m_from_label_column("label")
        model = _floored(_surname_from_full_name(linker.misc.save_model_to_json()), table, settings)
        linker = Linker(data, _fixed(model, keep="address"), log_level=None)
        # Its pairs grow with the platform records alone, so they need no sampling.
        linker.training.estimate_parameters_using_expectation_maximisation(_ADDRESS_RULE)
        model = _floored(linker.misc.save_model_to_json(), table, settings)
        linker = Linker(data, _fixed(model, keep=None), log_level=None)
        # Sampled only when there are more same-name pairs than the budget: Splink's probe of a
        # small table finds none and warns.
        many = _same_name_pairs(table) > settings.max_pairs_for_em
        session = linker.training.estimate_parameters_using_expectation_maximisation(
            _PRIOR_RULE, max_pairs=settings.max_pairs_for_em if many else None
        )
        share = session.core_model_settings.probability_two_random_records_match
        model = _with_prior(linker.misc.save_model_to_json(), share, table)
    return _fixed(model, keep="*")


def predict_pairs(
    features: pa.Table,
    clusters: pa.Array[Any] | np.ndarray,
    pool: np.ndarray,
    model: dict[str, Any],
    *,
    backend: str = "duckdb",
    settings: LinkSettings,
    name_frequencies: pa.Table | None = None,
) -> pa.Table:
    """Pairs of records in different clusters, at least one in the ``pool``, that ``model`` gives
    a match probability of at least ``settings.review_probability`` (schema ``PAIRS``). A model
    trained on one backend scores on the other. ``name_frequencies`` (from
    ``full_name_frequencies``) comes from the whole chain when ``features`` is only part of it."""
    table = _model_input(features, clusters).append_column(
        "in_pool", pa.array(np.asarray(pool, dtype=bool))
    )
    with _quiet():
        db_api = _db_api(backend)
        plan = _plan(model, db_api.sql_dialect.sql_dialect_str)
        linker = Linker(db_api.register(table), plan, log_level=None)
        linker.table_management.register_term_frequency_lookup(
            db_api.register(
                name_frequencies if name_frequencies is not None else _full_name_frequencies(table)
            ),
            "full_name",
        )
        scored = linker.inference.predict(
            threshold_match_probability=settings.review_probability, warning_mode="never"
        )
        # Splink's base SplinkDataFrame leaves this unannotated; every backend's returns a Table.
        found: pa.Table = scored.as_pyarrow_table()  # type: ignore[no-untyped-call]
    return pa.table([found[field.name].cast(field.type) for field in PAIRS], schema=PAIRS)


def _plan(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The comparisons written for ``dialect`` with the parameters ``model`` learnt (on any
    backend), and the blocking rules of the search. Levels that carry no evidence (null levels)
    learn nothing, so a model trained before one was added still fits."""
    plan = _model().create_settings_dict(dialect)
    learnt = {
        c["output_column_name"]: _evidence_levels(c["comparison_levels"])
        for c in model["comparisons"]
    }
    for comparison in plan["comparisons"]:
        levels = learnt.get(comparison["output_column_name"], [])
        planned = _evidence_levels(comparison["comparison_levels"])
        if len(levels) != len(planned):
            raise InvalidInput(
                "identity.model",
                f"the model has no comparison {comparison['output_column_name']!r} of this "
                "shape: train it again",
            )
        for level, trained in zip(planned, levels, strict=True):
            level.update(
                {k: trained[k] for k in ("m_probability", "u_probability") if k in trained}
            )
    plan["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    plan["blocking_rules_to_generate_predictions"] = _blocking_rules()
    return plan


def _evidence_levels(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [level for level in levels if not level.get("is_null_level")]


def _model_input(features: pa.Table, clusters: pa.Array[Any] | np.ndarray) -> pa.Table:
    cluster = pa.array(np.asarray(clusters, dtype=np.int64))
    if len(cluster) != len(features):
        raise InvalidInput(
            "identity.clusters", f"{len(cluster)} cluster ids for {len(features)} records"
        )
    table = _with_full_name(features).append_column("cluster", cluster)
    return table.append_column("phone_shared", _shared_phones(table))


def _with_full_name(features: pa.Table) -> pa.Table:
    # pyarrow-stubs cannot type a str separator after arrays.
    full_name = pc.binary_join_element_wise(  # type: ignore[call-overload]
        features["surname"], features["given_name"], " "
    )
    return features.append_column("full_name", full_name)


def _shared_phones(table: pa.Table) -> pa.Array[Any]:
    """Per record: people it could be share its masked phone, surname and city, as a family's
    phone is shared. Among the records of that phone, surname and city whose gender does not
    contradict the record's, some differ in birthday, gender or a name beyond a typo in its
    last character (as the ID graph tells people apart on one full phone)."""
    columns = table.select(["phone_masked", "surname", *_PERSON_FIELDS])
    db = duckdb.connect()
    db.register("records", columns.append_column("row_id", pa.array(np.arange(len(table)))))
    shared: pa.Table = db.sql(_SHARED_SQL).to_arrow_table()
    db.close()
    return shared["shared"].combine_chunks()


_PERSON_FIELDS = ("given_name", "gender", "birthday", "city")
_SHARED_SQL = """
WITH keyed AS (
    SELECT row_id, phone_masked, surname, city, gender, birthday,
           left(given_name, length(given_name) - 1) AS stem
    FROM records WHERE phone_masked IS NOT NULL AND surname IS NOT NULL
), shared AS (
    SELECT a.row_id,
           count(DISTINCT b.birthday) > 1 OR count(DISTINCT b.gender) > 1
               OR count(DISTINCT b.stem) > 1 AS shared
    FROM keyed a JOIN keyed b
      ON a.phone_masked = b.phone_masked AND a.surname = b.surname
     AND a.city IS NOT DISTINCT FROM b.city
     AND (a.gender IS NULL OR b.gender IS NULL OR a.gender = b.gender)
    GROUP BY a.row_id
)
SELECT coalesce(s.shared, false) AS shared
FROM records r LEFT JOIN shared s USING (row_id)
ORDER BY r.row_id
"""


def full_name_frequencies(features: pa.Table) -> pa.Table:
    """How often each full name of ``features`` (from ``link_features``) occurs among them."""
    return _full_name_frequencies(_with_full_name(features))


def _full_name_frequencies(table: pa.Table) -> pa.Table:
    """Splink's term-frequency lookup for full names: how often another person bears the name.

    A rare name's own count is mostly its bearer's records, so it is capped by what its parts
    predict: the surname's frequency times the given name's among names of the same script
    (a Latin given name goes with a Latin surname)."""
    con = duckdb.connect()
    con.register("records", table.select(["surname", "given_name", "full_name"]))
    frequencies: pa.Table = con.sql(_FREQUENCIES_SQL).to_arrow_table()
    return frequencies


_FREQUENCIES_SQL = """
WITH named AS (
    SELECT *, regexp_matches(surname, '^[a-z]') AS latin, count(*) OVER () AS total
    FROM records WHERE full_name IS NOT NULL
),
surnames AS (SELECT surname, count(*) / any_value(total) AS share FROM named GROUP BY 1),
given AS (
    SELECT given_name, latin, count(*) / sum(count(*)) OVER (PARTITION BY latin) AS share
    FROM named GROUP BY 1, 2
),
names AS (
    SELECT full_name, any_value(surname) AS surname, any_value(given_name) AS given_name,
           any_value(latin) AS latin, count(*) / any_value(total) AS share
    FROM named GROUP BY 1
)
SELECT n.full_name, least(n.share, s.share * g.share)::DOUBLE AS tf_full_name
FROM names n JOIN surnames s USING (surname) JOIN given g USING (given_name, latin)
"""


def _with_prior(model: dict[str, Any], share: float, table: pa.Table) -> dict[str, Any]:
    """``model`` with the probability that two records match: the share of same-name pairs
    that match (from EM) times the same-name pairs, over the pairs a match has the same name in
    (m) times all pairs. Splink's own reversal divides by u, which on a small chain is mostly
    people's own records."""
    out = deepcopy(model)
    levels = {c["output_column_name"]: c["comparison_levels"] for c in out["comparisons"]}
    m_same = float(levels["full_name"][1]["m_probability"])
    n = len(table)
    out["probability_two_random_records_match"] = (
        share * _same_name_pairs(table) / (m_same * max(1, n * (n - 1) // 2))
    )
    return out


def _same_name_pairs(table: pa.Table) -> int:
    counts = pc.value_counts(table["full_name"].drop_null()).field("counts").to_numpy()
    return int((counts * (counts - 1) // 2).sum())


def _sampled_labels(cluster: pa.ChunkedArray[Any], settings: LinkSettings) -> pa.Array[Any]:
    """The cluster as a label for a random share of whole clusters, null for the rest."""
    values = cluster.to_numpy()
    share = min(1.0, settings.max_label_records / max(1, len(values)))
    unique = np.unique(values)
    chosen = np.random.default_rng(settings.seed).random(len(unique)) < share
    labels: pa.Array[Any] = pa.array(values, mask=~np.isin(values, unique[chosen]))
    return labels


def _floored(model: dict[str, Any], table: pa.Table, settings: LinkSettings) -> dict[str, Any]:
    """No m below ``min_m_probability``; a u never seen gets the rate of one agreement among the
    random pairs where both sides had a value (they are rare, so Splink's sample misses them)."""
    out = deepcopy(model)
    for comparison in out["comparisons"]:
        column = comparison["output_column_name"]
        nulls = table[column].null_count if column in table.column_names else 0
        present = 1 - nulls / max(1, len(table))
        unseen_u = 1 / max(1.0, settings.max_pairs_for_u * present**2)
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for key, floor in (
            ("m_probability", settings.min_m_probability),
            ("u_probability", unseen_u),
        ):
            values = [max(float(lv.get(key) or 0.0), floor) for lv in levels]
            for level, value in zip(levels, values, strict=True):
                level[key] = value / sum(values)
    return out


def _surname_from_full_name(model: dict[str, Any]) -> dict[str, Any]:
    """Courtesy names never sit in a cluster, so how often one person's surnames agree is read
    from the full-name comparison: every level but the last has the same surname."""
    out = deepcopy(model)
    levels = {c["output_column_name"]: c["comparison_levels"] for c in out["comparisons"]}
    differ = float(levels["full_name"][-1].get("m_probability") or 0.0)
    levels["surname"][1]["m_probability"] = 1 - differ
    levels["surname"][2]["m_probability"] = differ
    return out


def _fixed(model: dict[str, Any], *, keep: str | None) -> dict[str, Any]:
    """``model`` with every m fixed except the comparison ``keep`` ("*": none fixed)."""
    out = deepcopy(model)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["fix_m_probability"] = keep != "*" and comparison["output_column_name"] != keep
    return out


@contextmanager
def _quiet() -> Iterator[None]:
    """Splink reports every step at INFO; keep it to warnings while we run."""
    splink = logging.getLogger("splink")
    level = splink.level
    splink.setLevel(logging.WARNING)
    try:
        yield
    finally:
        splink.setLevel(level)


def _duckdb() -> DatabaseAPISubClass:
    from splink import DuckDBAPI

    return DuckDBAPI()


def _spark() -> DatabaseAPISubClass:
    # The caller's session when there is one; Splink's similarity jar is not needed (the model
    # uses only built-in functions) and lineage is broken by caching, not checkpoint files.
    from pyspark.sql import SparkSession
    from splink import SparkAPI

    from newretail.lake.engines.spark import local_session

    session = SparkSession.getActiveSession() or local_session()
    api: DatabaseAPISubClass = SparkAPI(  # type: ignore[no-untyped-call]  # Splink: untyped
        spark_session=session, break_lineage_method="persist", register_udfs_automatically=False
    )
    return api


_BACKENDS: dict[str, Callable[[], DatabaseAPISubClass]] = {"duckdb": _duckdb, "spark": _spark}


def _db_api(backend: str) -> DatabaseAPISubClass:
    if backend not in _BACKENDS:
        raise InvalidInput(
            "identity.backend", f"unknown linking backend {backend!r}: one of {sorted(_BACKENDS)}"
        )
    return _BACKENDS[backend]()
