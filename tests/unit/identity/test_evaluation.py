"""OneID scoring on hand-built truths whose metrics are worked out by hand, plus a brute-force check."""

from __future__ import annotations

import itertools
import tempfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.errors import InvalidInput
from newretail.identity.evaluation import evaluate, meets_targets

Key = tuple[str, str]
Ids = tuple[str, str, str | None, str | None, str | None]

# The chain below: P1 and P2 are a family (they share the phone "fam"); "app"/"1" and "pos"/"1" are
# different records. app/1 changed phone, and app/2 carries app/1's old one, so both are strong; pos/1
# only shares the family phone with another person, so it is the one fuzzy record.
#   P1: app/1, app/2, pos/1     true pairs 3: strong (app/1, app/2); fuzzy (app/1, pos/1), (app/2, pos/1)
#   P2: pos/2, pos/3            true pairs 1: strong (pos/2, pos/3), linked by email
TRUTH = [
    ("app", "1", "P1"),
    ("app", "1", "P1"),
    ("app", "2", "P1"),
    ("pos", "1", "P1"),
    ("pos", "2", "P2"),
    ("pos", "3", "P2"),
]
FAMILY = [("f1", "family", "P1"), ("f1", "family", "P2")]
IDS: list[Ids] = [
    ("app", "1", "old", None, None),
    ("app", "1", "new", None, None),
    ("app", "2", "old", None, None),
    ("pos", "1", "fam", None, None),
    ("pos", "2", "fam", "e2", None),
    ("pos", "3", None, "e2", None),
]
P1 = [("app", "1"), ("app", "2"), ("pos", "1")]
P2 = [("pos", "2"), ("pos", "3")]


def write_truth(
    root: Path, rows: list[tuple[str, str, str]], groups: list[tuple[str, str, str]]
) -> Path:
    """identity_map with one row per version (a repeated record is its next version)."""
    truth = root / "truth"
    truth.mkdir()
    seen: dict[Key, int] = defaultdict(int)
    versions = []
    for source, record, _ in rows:
        seen[source, record] += 1
        versions.append(seen[source, record])
    pq.write_table(
        pa.table(
            {
                "source": pa.array([r[0] for r in rows], pa.string()),
                "source_record_id": pa.array([r[1] for r in rows], pa.string()),
                "version": pa.array(versions, pa.int64()),
                "person_id": pa.array([r[2] for r in rows], pa.string()),
            }
        ),
        truth / "identity_map.parquet",
    )
    pq.write_table(
        pa.table(
            {
                name: pa.array([g[i] for g in groups], pa.string())
                for i, name in enumerate(("group_id", "kind", "person_id"))
            }
        ),
        truth / "shared_phones.parquet",
    )
    return truth


def assignment(persons: dict[Key, str]) -> pa.Table:
    return pa.table(
        {
            "source": pa.array([k[0] for k in persons], pa.string()),
            "source_record_id": pa.array([k[1] for k in persons], pa.string()),
            "person_id": pa.array(list(persons.values()), pa.string()),
        }
    )


def identifiers(rows: list[Ids]) -> pa.Table:
    names = ("source", "source_record_id", "phone_hash", "email_hash", "wechat_unionid")
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def grouped(*clusters: list[Key]) -> dict[Key, str]:
    return {key: f"X{i}" for i, cluster in enumerate(clusters) for key in cluster}


@pytest.fixture
def family_truth(tmp_path: Path) -> Path:
    return write_truth(tmp_path, TRUTH, FAMILY)


def test_a_perfect_assignment_scores_one_everywhere(family_truth: Path) -> None:
    e = evaluate(assignment(grouped(P1, P2)), family_truth, identifiers(IDS))
    assert (e.records, e.true_persons, e.predicted_persons) == (5, 2, 2)
    assert (e.strong_records, e.fuzzy_records) == (4, 1)
    assert (e.pairwise.true_pairs, e.pairwise.predicted_pairs, e.pairwise.correct_pairs) == (
        4,
        4,
        4,
    )
    assert (e.strong.true_pairs, e.fuzzy.true_pairs) == (2, 2)
    for scores in (e.pairwise, e.strong, e.fuzzy):
        assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)
    assert (e.bcubed.precision, e.bcubed.recall, e.bcubed.f1) == (1.0, 1.0, 1.0)
    assert (e.families_total, e.families_merged, e.hub_groups_total) == (1, 0, 0)
    assert (e.missing_from_assignment, e.missing_from_truth) == (0, 0)
    assert all(met for *_, met in meets_targets(e))


def test_merging_a_family_costs_precision_and_is_counted(family_truth: Path) -> None:
    # One predicted person of all 5: C(5,2) = 10 predicted pairs, 4 of them true.
    #   overall: precision 4/10, recall 1, F1 2·0.4/1.4 = 4/7
    #   strong: the 2 true chain pairs (app/1-app/2 on "old", pos/2-pos/3 on e2) plus the wrong
    #   pair sharing the family phone (pos/1-pos/2) = 3 predicted, 2 true -> precision 2/3, F1 4/5
    #   fuzzy: the other 10 - 3 = 7 pairs, 4 - 2 = 2 true -> precision 2/7, recall 1, F1 4/9
    #   B-cubed precision: P1's 3 records 3/5 each, P2's 2 records 2/5 each -> (1.8 + 0.8) / 5 = 0.52
    e = evaluate(assignment(grouped(P1 + P2)), family_truth, identifiers(IDS))
    assert e.predicted_persons == 1
    assert (e.pairwise.predicted_pairs, e.pairwise.correct_pairs) == (10, 4)
    assert (e.pairwise.precision, e.pairwise.recall) == (0.4, 1.0)
    assert e.pairwise.f1 == pytest.approx(4 / 7)
    assert (e.strong.predicted_pairs, e.strong.correct_pairs) == (3, 2)
    assert e.strong.precision == pytest.approx(2 / 3)
    assert e.strong.f1 == pytest.approx(4 / 5)
    assert (e.fuzzy.predicted_pairs, e.fuzzy.correct_pairs) == (7, 2)
    assert e.fuzzy.f1 == pytest.approx(4 / 9)
    assert e.bcubed.precision == pytest.approx(0.52)
    assert e.bcubed.recall == 1.0
    assert (e.families_total, e.families_merged) == (1, 1)
    assert [(name, met) for name, _, _, met in meets_targets(e)] == [
        ("strong pairwise F1", False),
        ("fuzzy pairwise F1", False),
        ("families merged", False),
    ]


def test_a_split_person_costs_recall_and_fuzzy_pairs_never_predicted_score_zero(
    family_truth: Path,
) -> None:
    # P1 split into {app/1, app/2} and {pos/1}: predicted pairs (app/1, app/2), (pos/2, pos/3).
    #   overall: precision 2/2, recall 2/4, F1 2/3; strong: both strong pairs found -> 1, 1
    #   fuzzy: 2 true pairs, none predicted -> precision None (nothing to divide), recall 0, F1 0
    #   B-cubed recall: app/1 2/3, app/2 2/3, pos/1 1/3, P2's 1 + 1 -> (11/3) / 5 = 11/15
    e = evaluate(assignment(grouped(P1[:2], P1[2:], P2)), family_truth, identifiers(IDS))
    assert e.predicted_persons == 3
    assert (e.pairwise.precision, e.pairwise.recall) == (1.0, 0.5)
    assert e.pairwise.f1 == pytest.approx(2 / 3)
    assert (e.strong.precision, e.strong.recall, e.strong.f1) == (1.0, 1.0, 1.0)
    assert (e.fuzzy.true_pairs, e.fuzzy.predicted_pairs) == (2, 0)
    assert (e.fuzzy.precision, e.fuzzy.recall, e.fuzzy.f1) == (None, 0.0, 0.0)
    assert e.bcubed.precision == 1.0
    assert e.bcubed.recall == pytest.approx(11 / 15)
    assert e.families_merged == 0


def test_strong_needs_a_value_shared_with_another_record_of_the_same_person(
    tmp_path: Path,
) -> None:
    # P1: r1 carries "a" then "b"; r2 carries "b" (strong through r1's later version); r3 carries the
    # cashier's "hub" in two versions of itself only, and P2's r4 carries it too -> neither strong.
    # P2: r5 and r6 share a unionid -> strong; r7 has an email nobody else has -> fuzzy.
    # A record only in the identifiers (r8) is ignored.
    truth = write_truth(
        tmp_path,
        [("pos", f"r{i}", "P1" if i <= 3 else "P2") for i in range(1, 8)],
        [("555", "hub", "P1"), ("555", "hub", "P2")],
    )
    ids: list[Ids] = [
        ("pos", "r1", "a", None, None),
        ("pos", "r1", "b", None, None),
        ("pos", "r2", "b", None, None),
        ("pos", "r3", "hub", None, None),
        ("pos", "r3", "hub", None, None),
        ("pos", "r4", "hub", None, None),
        ("pos", "r5", None, None, "u"),
        ("pos", "r6", None, None, "u"),
        ("pos", "r7", None, "e7", None),
        ("pos", "r8", "b", None, None),
    ]
    e = evaluate(
        assignment({("pos", f"r{i}"): "P1" if i <= 3 else "P2" for i in range(1, 8)}),
        truth,
        identifiers(ids),
    )
    assert (e.strong_records, e.fuzzy_records) == (4, 3)
    # Strong pairs: (r1, r2), (r5, r6); the other C(3,2) + C(4,2) - 2 = 7 pairs are fuzzy.
    assert (e.strong.true_pairs, e.fuzzy.true_pairs) == (2, 7)
    assert (e.hub_groups_total, e.hub_groups_merged, e.hub_persons_merged_max) == (1, 0, 1)
    # Linking through the cashier's number puts the hub's two persons into one.
    hubbed = evaluate(
        assignment({("pos", f"r{i}"): "X" for i in range(1, 8)}), truth, identifiers(ids)
    )
    assert (hubbed.hub_groups_merged, hubbed.hub_persons_merged_max) == (1, 2)


def test_a_class_without_pairs_is_none_not_one(tmp_path: Path) -> None:
    # Three singletons, no identifiers at all: no strong records, no true pairs of any class.
    truth = write_truth(tmp_path, [("app", "a", "P1"), ("app", "b", "P2"), ("app", "c", "P3")], [])
    perfect = evaluate(
        assignment({("app", "a"): "X", ("app", "b"): "Y", ("app", "c"): "Z"}),
        truth,
        identifiers([]),
    )
    assert (perfect.strong_records, perfect.fuzzy_records) == (0, 3)
    for scores in (perfect.pairwise, perfect.strong, perfect.fuzzy):
        assert (scores.precision, scores.recall, scores.f1) == (None, None, None)
    assert (perfect.bcubed.precision, perfect.bcubed.recall) == (1.0, 1.0)
    assert meets_targets(perfect)[0] == ("strong pairwise F1", None, ">= 0.995", False)
    # Merging a and b predicts one fuzzy pair that no truth pair matches: precision 0, recall None.
    merged = evaluate(
        assignment({("app", "a"): "X", ("app", "b"): "X", ("app", "c"): "Z"}),
        truth,
        identifiers([]),
    )
    assert (merged.fuzzy.precision, merged.fuzzy.recall, merged.fuzzy.f1) == (0.0, None, 0.0)
    assert merged.strong.f1 is None


def test_records_missing_on_either_side_are_counted_and_left_out_ones_are_singletons(
    family_truth: Path,
) -> None:
    # P2's two records are left out (each its own predicted person, not one together) and the
    # assignment adds a record the truth does not know (not scored).
    #   predicted pairs: P1's 3, all true; true pairs 4 -> precision 1, recall 3/4
    #   B-cubed recall: P1's records 1 each, pos/2 and pos/3 1/2 each -> 4/5
    persons = grouped(P1)
    persons["pos", "99"] = "X0"
    e = evaluate(assignment(persons), family_truth, identifiers(IDS))
    assert (e.missing_from_assignment, e.missing_from_truth) == (2, 1)
    assert (e.records, e.predicted_persons) == (5, 3)
    assert (e.pairwise.precision, e.pairwise.recall) == (1.0, 0.75)
    assert e.bcubed.recall == pytest.approx(0.8)


def test_a_record_given_two_persons_is_refused(family_truth: Path) -> None:
    doubled = pa.concat_tables([assignment(grouped(P1, P2)), assignment({("pos", "3"): "other"})])
    with pytest.raises(InvalidInput) as raised:
        evaluate(doubled, family_truth, identifiers(IDS))
    assert raised.value.code == "identity.ambiguous_record"


def test_a_truth_record_whose_versions_disagree_is_refused(tmp_path: Path) -> None:
    truth = write_truth(tmp_path, [("app", "1", "P1"), ("app", "1", "P2")], [])
    with pytest.raises(InvalidInput, match="app/1"):
        evaluate(assignment({("app", "1"): "X"}), truth, identifiers([]))


def test_missing_truth_files_and_columns_are_refused(tmp_path: Path, family_truth: Path) -> None:
    with pytest.raises(InvalidInput, match="identity_map"):
        evaluate(assignment(grouped(P1)), tmp_path / "nowhere", identifiers(IDS))
    with pytest.raises(InvalidInput, match="wechat_unionid"):
        evaluate(assignment(grouped(P1)), family_truth, identifiers(IDS).drop(["wechat_unionid"]))


def _pairs(persons: dict[Key, str]) -> set[tuple[Key, Key]]:
    members: dict[str, list[Key]] = defaultdict(list)
    for key, person in persons.items():
        members[person].append(key)
    return {p for m in members.values() for p in itertools.combinations(sorted(m), 2)}


records = st.lists(st.integers(0, 5), min_size=1, max_size=14)


@settings(max_examples=40, deadline=None)
@given(
    true=records, predicted=st.lists(st.integers(0, 6), min_size=14, max_size=14), phones=records
)
def test_counts_match_enumerated_pairs(
    true: list[int], predicted: list[int], phones: list[int]
) -> None:
    # Predicted person 6 means "left out of the assignment"; record i carries phone phones[i], and
    # records past the end of phones carry none.
    keys = [("src", f"r{i}") for i in range(len(true))]
    truth_persons = {k: f"P{p}" for k, p in zip(keys, true, strict=False)}
    given_persons = {k: f"X{p}" for k, p in zip(keys, predicted, strict=False) if p < 6}
    scored = {k: given_persons.get(k, f"alone {k}") for k in keys}
    ids: list[Ids] = [(k[0], k[1], f"h{p}", None, None) for k, p in zip(keys, phones, strict=False)]
    holders: dict[tuple[str, str], set[Key]] = defaultdict(set)
    for source, record, phone, _, _ in ids:
        holders[truth_persons[source, record], str(phone)].add((source, record))
    strong = {k for held in holders.values() if len(held) > 1 for k in held}
    phone = {(k[0], k[1]): p for *k, p, _, _ in ids}

    def shares(pair: tuple[Key, Key]) -> bool:
        # Each record carries at most one phone, so a chain within a person is one shared value.
        a, b = pair
        return a in phone and b in phone and phone[a] == phone[b]

    true_pairs, predicted_pairs = _pairs(truth_persons), _pairs(scored)
    with tempfile.TemporaryDirectory() as tmp:
        e = evaluate(
            assignment(given_persons),
            write_truth(Path(tmp), [(*k, p) for k, p in truth_persons.items()], []),
            identifiers(ids),
        )
    assert e.pairwise.true_pairs == len(true_pairs)
    assert e.pairwise.predicted_pairs == len(predicted_pairs)
    assert e.pairwise.correct_pairs == len(true_pairs & predicted_pairs)
    assert e.strong_records == len(strong)
    assert (e.strong.true_pairs, e.strong.predicted_pairs, e.strong.correct_pairs) == tuple(
        sum(shares(p) for p in pairs)
        for pairs in (true_pairs, predicted_pairs, true_pairs & predicted_pairs)
    )
    assert e.predicted_persons == len(set(scored.values()))
    together = [
        sum(truth_persons[o] == truth_persons[k] and scored[o] == scored[k] for o in keys)
        for k in keys
    ]
    in_pred = [sum(scored[o] == scored[k] for o in keys) for k in keys]
    assert e.bcubed.precision == pytest.approx(
        sum(b / p for b, p in zip(together, in_pred, strict=True)) / len(keys)
    )
