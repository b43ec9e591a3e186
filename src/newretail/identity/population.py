"""The linking features of every record in the chain, kept beside the identity model so an
incremental run can find fuzzy candidates for its new records without normalising millions of
names again: a full run writes the whole population, an incremental run appends its new records, and
the appended files are folded back in once they are many.

The full-name frequencies (how common each name is in the chain) are kept with the full run's
population: they weigh fuzzy matches, and a day's new records barely move them.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.identity.linking import full_name_frequencies
from newretail.identity.records import key_strings
from newretail.lake.storage import replacing

_DIR = "population"
_BASE = "base.parquet"
_FREQUENCIES = "name_frequencies.parquet"
_MAX_APPENDED = 16


def load_population(cache_dir: Path) -> tuple[pa.Table, pa.Table] | None:
    """(features with ``source_record_id``, name frequencies), or None when no full run wrote
    them; a record in several files is taken from the newest."""
    folder = cache_dir / _DIR
    if not (folder / _BASE).exists() or not (folder / _FREQUENCIES).exists():
        return None
    base = pq.read_table(folder / _BASE)
    appended = sorted(folder.glob("appended-*.parquet"))
    if appended:
        db = duckdb.connect()
        # The newest appended copy of a record wins; the base loses to any of them.
        newest: pa.Table = db.sql(
            f"""
            SELECT * EXCLUDE (filename) FROM read_parquet({[str(f) for f in appended]!r},
                                                        filename = true)
            QUALIFY row_number() OVER (
                PARTITION BY source, source_record_id ORDER BY filename DESC) = 1
            """
        ).to_arrow_table()
        db.close()
        replaced = pc.is_in(key_strings(base), value_set=key_strings(newest))
        base = pa.concat_tables([base.filter(pc.invert(replaced)), newest.cast(base.schema)])
    return base, pq.read_table(folder / _FREQUENCIES)


def save_population(cache_dir: Path, features: pa.Table) -> None:
    """The whole chain's features (a full run): replaces everything kept before."""
    folder = cache_dir / _DIR
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / _FREQUENCIES, full_name_frequencies(features))
    _replace(folder / _BASE, features)
    for appended in folder.glob("appended-*.parquet"):
        appended.unlink()


def append_population(cache_dir: Path, features: pa.Table, population: pa.Table) -> None:
    """New records' features (an incremental run); ``population`` is what was loaded, folded
    with them into a new base when the appended files grow many."""
    folder = cache_dir / _DIR
    appended = sorted(folder.glob("appended-*.parquet"))
    if len(appended) >= _MAX_APPENDED:
        replaced = pc.is_in(key_strings(population), value_set=key_strings(features))
        kept = population.filter(pc.invert(replaced))
        save_population(cache_dir, pa.concat_tables([kept, features.cast(kept.schema)]))
        return
    _replace(folder / f"appended-{time.time_ns():020d}.parquet", features)


def _replace(path: Path, table: pa.Table) -> None:
    with replacing(path, suffix=".parquet") as handle:
        pq.write_table(table, handle, compression="zstd")
