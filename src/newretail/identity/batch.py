"""One OneID run: load records, build the ID graph, fuzzy-link what has no contact identifier,
honour hand-made decisions, keep person ids stable, and write links, persons, history and the
lake's person tables, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from newretail.identity import store
from newretail.identity.assign import assign_persons
from newretail.identity.delta import incremental_scope, keyed_features, merged_person_table
from newretail.identity.features import link_features
from newretail.identity.golden import golden_profiles
from newretail.identity.graph import IdGraph, build_graph, components
from newretail.identity.linking import LinkSettings, predict_pairs, train_model
from newretail.identity.population import append_population, save_population
from newretail.identity.records import RecordSet, key_strings, load_records
from newretail.identity.review import queue_for_review
from newretail.identity.rules import IdentityRules
from newretail.identity.versions import version_identifiers
from newretail.lake import Lake
from newretail.lake.storage import StagedFile
from newretail.model import oneid
from newretail.model.spec import TableSpec
from newretail.progress import Progress, SilentProgress, Task


@dataclass(frozen=True)
class RunReport:
    """``records`` and ``persons``: what the run resolved (the whole chain in a full run; in an
    incremental one, the new records and the persons they touched); ``fresh_records``: records
    new or changed since the previous run."""

    run_id: int
    mode: str
    records: int
    fresh_records: int
    persons: int
    new_persons: int
    merges: int
    splits: int
    demoted: int
    fuzzy_links: int
    queued_for_review: int
    links_written: int
    seconds: dict[str, float]


def resolve_identities(
    lake: Lake,
    engine: Engine,
    *,
    rules: IdentityRules,
    model_file: Path,
    now: dt.datetime,
    full: bool = False,
    backend: str = "duckdb",
    retrain: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Resolve identity records to persons. ``full`` resolves the whole chain and re-scores every
    fuzzy candidate; otherwise (after a first run) only records new or changed since the last run
    and the persons they touch are resolved, and fuzzy links decided earlier are kept."""
    steps = (progress or SilentProgress()).task("OneID: resolve identities", total=len(_STEPS))
    clock = _Clock(steps)
    cache_dir = model_file.parent
    with engine.connect() as conn:
        watermark = store.last_watermark(conn)
        last_started = store.last_run_started(conn)
        versions = version_identifiers(lake, cache_dir, rules)
        scope = None
        if not full and watermark is not None and last_started is not None:
            scope = incremental_scope(
                lake,
                conn,
                rules,
                watermark=watermark,
                last_started=last_started,
                versions=versions,
                cache_dir=cache_dir,
            )
        features: pa.Table | None = None
        if scope is None:
            records = load_records(lake, conn, rules, versions=versions)
            previous = store.current_links(conn)
            taken: AbstractSet[str] = store.issued_person_ids(conn)
            demoted_before = None
            fresh = len(records) if watermark is None else _fresh_count(records, previous)
            features = link_features(records.records)
        else:
            records, previous = scope.records, scope.previous
            taken = store.IssuedIds(conn)
            demoted_before = store.demoted_values(conn)
            fresh = int(scope.fresh.sum())
        dormant = store.dormant_person_ids(conn)
        constraints = store.active_constraints(conn)
        clock.lap("load")
        graph = build_graph(records, rules, demoted_before)
        clock.lap("graph")
        pool = ~graph.has_contact
        fuzzy_a, fuzzy_b, match_reason, match_weight, review = _fuzzy_links(
            records,
            graph,
            pool,
            previous,
            rules,
            model_file=model_file,
            full=full or watermark is None,
            backend=backend,
            retrain=retrain,
            features=features,
            name_frequencies=None if scope is None else scope.name_frequencies,
        )
        clock.lap("fuzzy")
        must_a, must_b, apart, manual = _constraint_edges(constraints, records)
        cluster = components(
            len(records),
            [(graph.edge_a, graph.edge_b), (fuzzy_a, fuzzy_b), (must_a, must_b)],
            apart,
        )
        assignment = assign_persons(records.records, cluster, previous, taken)
    clock.lap("assign")
    links = _links(records, graph, assignment.person_id, match_reason, match_weight, manual, now)
    changed = _changed(links, previous)
    persons = pc.unique(assignment.person_id)
    mode = "full" if scope is None else "incremental"
    linked = records.records.append_column("person_id", assignment.person_id)
    replaced = None if scope is None else scope.touched | {str(p) for p in persons.to_pylist()}
    tables = (oneid.PERSON_LINKS, oneid.PERSONS)
    with (
        lake.writer(*(("dwd", spec.name) for spec in tables)),
        ThreadPoolExecutor(max_workers=2) as background,
    ):
        # The lake's new person tables are put together while the OLTP store writes and commits,
        # and replace the old ones only after the commit: the lake never shows a run the OLTP
        # store does not hold (a run that dies in between leaves the lake a run behind, and the
        # next run takes those records in again).
        staged = [
            background.submit(_stage_person_table, lake, spec, linked, rules, replaced)
            for spec in tables
        ]
        with engine.begin() as conn:
            run_id = store.start_run(conn, mode, now)
            changed = changed.set_column(
                changed.schema.get_field_index("run_id"),
                "run_id",
                pa.array([run_id] * changed.num_rows, pa.int32()),
            )
            written = store.write_links(conn, changed)
            store.write_persons(
                conn,
                new=assignment.new_persons,
                retired=assignment.retired,
                live=dormant & set(persons.to_pylist()),
                origin="batch",
                now=now,
            )
            store.write_events(conn, assignment.moves, actor=f"run:{run_id}", now=now)
            if scope is None:
                store.replace_demoted(conn, graph.demoted, run_id)
            else:
                store.add_demoted(conn, graph.demoted, run_id)
            queued = queue_for_review(conn, review, run_id=run_id, now=now)
            report = RunReport(
                run_id=run_id,
                mode=mode,
                records=len(records),
                fresh_records=fresh,
                persons=len(persons),
                new_persons=len(assignment.new_persons),
                merges=sum(1 for m in assignment.moves if m.kind == "merge"),
                splits=sum(1 for m in assignment.moves if m.kind == "split"),
                demoted=graph.demoted.num_rows,
                fuzzy_links=len(fuzzy_a),
                queued_for_review=queued,
                links_written=written,
                seconds=clock.laps,
            )
            newest = pc.max(records.records["updated_at"]).as_py()
            if watermark is not None and (newest is None or newest < watermark):
                newest = watermark
            store.finish_run(conn, run_id, now=now, watermark=newest, stats=_stats(report))
        clock.lap("write")
        for file in [future.result() for future in staged]:
            file.publish()
    if features is not None:
        save_population(cache_dir, keyed_features(features, records.records))
    if scope is not None:
        append_population(cache_dir, scope.fresh_features, scope.population)
    clock.lap("lake")
    return RunReport(**{**report.__dict__, "seconds": clock.laps})


def _fresh_count(records: RecordSet, previous: pa.Table) -> int:
    """Records the previous links do not hold (new since the last run)."""
    known = pc.is_in(key_strings(records.records), value_set=key_strings(previous))
    return len(records) - int(np.count_nonzero(known.to_numpy(zero_copy_only=False)))


_STEPS = ("load", "graph", "fuzzy", "assign", "write", "lake")


class _Clock:
    """Times each step of a run (reported, and kept in the run's stats) and advances the bar."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
        self._task.advance()


def _keyed(records: RecordSet, pairs: list[Any]) -> np.ndarray:
    """Record keys of (source, source_record_id) pairs; records no longer present are skipped."""
    if not pairs:
        return np.empty(0, dtype=np.int64)
    wanted = pa.table(
        {"source": [str(p[0]) for p in pairs], "source_record_id": [str(p[1]) for p in pairs]}
    )
    db = duckdb.connect()
    db.register("wanted", wanted)
    db.register("records", records.records.select(["record_key", "source", "source_record_id"]))
    keys = db.sql("SELECT record_key FROM wanted JOIN records USING (source, source_record_id)")
    result: np.ndarray = keys.to_arrow_table()["record_key"].to_numpy()
    db.close()
    return result


def _constraint_edges(
    constraints: list[tuple[str, list[Any], list[Any]]], records: RecordSet
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Edges for 'must' decisions, record sets kept apart for 'cannot', and the records a hand
    decision placed (their links say so)."""
    a: list[np.ndarray] = []
    b: list[np.ndarray] = []
    apart: list[np.ndarray] = []
    manual = np.zeros(len(records), dtype=bool)
    for kind, left, right in constraints:
        left_keys, right_keys = _keyed(records, left), _keyed(records, right)
        if len(left_keys) == 0 or len(right_keys) == 0:
            continue
        if kind == "must":
            a.append(np.full(len(right_keys), left_keys[0]))
            b.append(right_keys)
            manual[right_keys] = True
        else:
            apart.append(right_keys)
            manual[right_keys] = True
    empty = np.empty(0, dtype=np.int64)
    return (
        np.concatenate(a) if a else empty,
        np.concatenate(b) if b else empty,
        apart,
        manual,
    )


def _fuzzy_links(
    records: RecordSet,
    graph: IdGraph,
    pool: np.ndarray,
    previous: pa.Table,
    rules: IdentityRules,
    *,
    model_file: Path,
    full: bool,
    backend: str,
    retrain: bool,
    features: pa.Table | None,
    name_frequencies: pa.Table | None,
) -> tuple[np.ndarray, np.ndarray, pa.Array[Any], np.ndarray, pa.Table]:
    """Accepted fuzzy edges (a, b), each record's match reason and weight, and grey-zone pairs."""
    n = len(records)
    db = duckdb.connect()
    db.register("records", records.records.select(["record_key", "source", "source_record_id"]))
    db.register("previous", previous)
    db.register(
        "pool",
        pa.table(
            {
                "record_key": pa.array(np.arange(n)),
                "pool": pa.array(pool),
                "cluster": pa.array(graph.cluster),
            }
        ),
    )
    kept_a = np.empty(0, dtype=np.int64)
    kept_b = np.empty(0, dtype=np.int64)
    to_score = pool.copy()
    if not full:
        # Keep earlier fuzzy decisions: a record matched before stays with its person's other
        # records; only pool records never seen before are scored now.
        kept = db.sql(
            """
            WITH prev AS (
                SELECT r.record_key, p.reason, p.match_weight,
                       split_part(substr(p.reason, 7), ':', 1) AS partner_source,
                       substr(p.reason, 8 + length(split_part(substr(p.reason, 7), ':', 1)))
                           AS partner_id
                FROM previous p JOIN records r USING (source, source_record_id)
                WHERE p.reason_kind = 'match' AND p.reason LIKE 'match %:%'
            )
            SELECT prev.record_key AS a, r.record_key AS b, prev.reason, prev.match_weight
            FROM prev JOIN records r
              ON r.source = prev.partner_source AND r.source_record_id = prev.partner_id
            """
        ).to_arrow_table()
        kept_a, kept_b = kept["a"].to_numpy(), kept["b"].to_numpy()
        seen = (
            db.sql("SELECT record_key FROM previous JOIN records USING (source, source_record_id)")
            .to_arrow_table()["record_key"]
            .to_numpy()
        )
        to_score[seen] = False
    reasons: list[str | None] = [None] * n
    weight = np.full(n, np.nan)
    if not full:
        for key, text, w in zip(
            kept_a.tolist(),
            kept["reason"].to_pylist(),
            kept["match_weight"].to_pylist(),
            strict=True,
        ):
            reasons[key] = text
            weight[key] = np.nan if w is None else w
    empty_review = pa.table(
        {
            "record_key_l": pa.array([], pa.int64()),
            "record_key_r": pa.array([], pa.int64()),
            "match_weight": pa.array([], pa.float64()),
            "match_probability": pa.array([], pa.float64()),
        }
    )
    if not to_score.any():
        db.close()
        return (
            kept_a,
            kept_b,
            pa.array(reasons, pa.string()),
            weight,
            _review_rows(records, empty_review),
        )
    settings = LinkSettings(
        accept_probability=rules.accept_probability, review_probability=rules.review_probability
    )
    if features is None:
        features = link_features(records.records)
    if retrain or not model_file.exists():
        model = train_model(features, graph.cluster, backend=backend, settings=settings)
        model_file.parent.mkdir(parents=True, exist_ok=True)
        model_file.write_text(json.dumps(model), encoding="utf-8")
    else:
        model = json.loads(model_file.read_text(encoding="utf-8"))
    pairs = predict_pairs(
        features,
        graph.cluster,
        to_score,
        model,
        backend=backend,
        settings=settings,
        name_frequencies=name_frequencies,
    )
    db.register("pairs", pairs)
    # Orient each pair from a scored pool record to its candidate; keep each pool cluster's best.
    db.sql(
        """
        CREATE TABLE oriented AS
        SELECT pl.cluster AS from_cluster, p.record_key_l AS a, p.record_key_r AS b,
               p.match_weight, p.match_probability, NOT pr.pool AS to_contact
        FROM pairs p JOIN pool pl ON pl.record_key = p.record_key_l
        JOIN pool pr ON pr.record_key = p.record_key_r WHERE pl.pool
        UNION ALL
        SELECT pr.cluster, p.record_key_r, p.record_key_l, p.match_weight, p.match_probability,
               NOT pl.pool
        FROM pairs p JOIN pool pl ON pl.record_key = p.record_key_l
        JOIN pool pr ON pr.record_key = p.record_key_r WHERE pr.pool
        """
    )
    # The best candidate with a phone or e-mail wins when one is accepted; another pool cluster
    # only failing that. By weight alone two fragments of one person (a Meituan and an Ele.me
    # account at one address) pick each other and stay an island apart from the person's app.
    best = db.sql(
        f"""
        SELECT * FROM oriented WHERE match_probability >= {rules.accept_probability}
        QUALIFY row_number() OVER (
            PARTITION BY from_cluster ORDER BY to_contact DESC, match_weight DESC, b) = 1
        """
    ).to_arrow_table()
    grey = db.sql(
        f"""
        SELECT a AS record_key_l, b AS record_key_r, match_weight, match_probability
        FROM oriented
        WHERE match_probability < {rules.accept_probability}
          AND from_cluster NOT IN (
              SELECT from_cluster FROM oriented
              WHERE match_probability >= {rules.accept_probability})
        QUALIFY row_number() OVER (PARTITION BY from_cluster ORDER BY match_weight DESC, b) = 1
        """
    ).to_arrow_table()
    db.close()
    a, b = best["a"].to_numpy(), best["b"].to_numpy()
    partner = records.records.select(["source", "source_record_id"]).take(pa.array(b))
    for key, source, record_id in zip(
        a.tolist(),
        partner["source"].to_pylist(),
        partner["source_record_id"].to_pylist(),
        strict=True,
    ):
        reasons[key] = f"match {source}:{record_id}"
    weight[a] = best["match_weight"].to_numpy()
    return (
        np.concatenate([kept_a, a]),
        np.concatenate([kept_b, b]),
        pa.array(reasons, pa.string()),
        weight,
        _review_rows(records, grey),
    )


def _review_rows(records: RecordSet, pairs: pa.Table) -> pa.Table:
    ids = records.records.select(["source", "source_record_id"])
    left = ids.take(pairs["record_key_l"])
    right = ids.take(pairs["record_key_r"])
    return pa.Table.from_arrays(
        [
            left["source"],
            left["source_record_id"],
            right["source"],
            right["source_record_id"],
            pairs["match_weight"],
            pairs["match_probability"],
        ],
        names=[
            "left_source",
            "left_record_id",
            "right_source",
            "right_record_id",
            "match_weight",
            "match_probability",
        ],
    )


def _links(
    records: RecordSet,
    graph: IdGraph,
    person_id: pa.Array[Any],
    match_reason: pa.Array[Any],
    match_weight: np.ndarray,
    manual: np.ndarray,
    now: dt.datetime,
) -> pa.Table:
    r = records.records
    n = len(records)
    by = graph.linked_by.to_pylist()
    kinds: list[str] = []
    reasons: list[str] = []
    for matched, hand, shared in zip(match_reason.to_pylist(), manual.tolist(), by, strict=True):
        if matched is not None:
            kinds.append("match")
            reasons.append(matched)
        elif hand:
            kinds.append("manual")
            reasons.append("decided by hand")
        elif shared:
            kinds.append("identifier")
            reasons.append(shared)
        else:
            kinds.append("single")
            reasons.append("no shared identifier")
    origin = pa.array(["api" if api else "lake" for api in r["from_api"].to_pylist()], pa.string())
    columns: list[pa.Array[Any] | pa.ChunkedArray[Any]] = [
        r["source"],
        r["source_record_id"],
        person_id,
        r["phone_hash"],
        r["email_hash"],
        r["wechat_unionid"],
        pa.array(kinds, pa.string()),
        pa.array(reasons, pa.string()),
        pa.array(match_weight, pa.float64(), mask=np.isnan(match_weight)),
        origin,
        pa.nulls(n, pa.int32()),
        pa.array([now] * n, pa.timestamp("us", tz="UTC")),
    ]
    return pa.Table.from_arrays(columns, names=list(store.LINK_COLUMNS))


def _changed(links: pa.Table, previous: pa.Table) -> pa.Table:
    """Links that are new or differ from the stored ones in person, reason or identifiers."""
    db = duckdb.connect()
    db.register("links", links)
    db.register("previous", previous)
    changed = db.sql(
        """
        SELECT l.* FROM links l LEFT JOIN previous p USING (source, source_record_id)
        WHERE p.person_id IS NULL OR p.person_id <> l.person_id OR p.reason <> l.reason
           OR p.phone_hash IS DISTINCT FROM l.phone_hash
           OR p.email_hash IS DISTINCT FROM l.email_hash
           OR p.wechat_unionid IS DISTINCT FROM l.wechat_unionid
        """
    ).to_arrow_table()
    db.close()
    table: pa.Table = changed
    return table


def _stats(report: RunReport) -> dict[str, Any]:
    return {k: v for k, v in report.__dict__.items() if k != "run_id"}


def _stage_person_table(
    lake: Lake,
    spec: TableSpec,
    linked: pa.Table,
    rules: IdentityRules,
    replaced: AbstractSet[str] | None,
) -> StagedFile:
    """The lake's view of OneID for tags, audiences and BI, written hidden: record links or golden
    profiles, of the whole chain, or with the rows of the ``replaced`` persons swapped for
    ``linked``'s."""
    if spec is oneid.PERSON_LINKS:
        rows = linked.select(list(spec.schema.names))
    else:
        rows = golden_profiles(linked, rules)
    table = rows.cast(spec.schema)
    if replaced is not None:
        table = merged_person_table(lake, spec, table, replaced=replaced)
    return lake.stage_partition("dwd", spec.name, {}, table)
