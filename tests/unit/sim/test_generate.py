from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from newretail.errors import InvalidInput
from newretail.ingest.sources import SOURCE_FILES
from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_the_same_bytes_and_another_seed_differs(
    chain: Path, tmp_path: Path, small: SimConfig
) -> None:
    again = tmp_path / "again"
    generate(small, out=again, progress=SilentProgress())
    assert _digests(again) == _digests(chain)
    other = tmp_path / "other"
    generate(dataclasses.replace(small, seed=4), out=other, progress=SilentProgress())
    assert _digests(other) != _digests(chain)


@pytest.mark.parametrize(
    ("field", "value"),
    [("members", 99), ("stores", 0), ("days", 6)],
)
def test_bad_config_is_refused(tmp_path: Path, small: SimConfig, field: str, value: int) -> None:
    bad = SimConfig(**{**small.as_dict(), "start": small.start, field: value})
    with pytest.raises(InvalidInput) as err:
        generate(bad, out=tmp_path / "x", progress=SilentProgress())
    assert err.value.code == "sim.bad_config"
    assert err.value.field == field


def test_non_empty_out_is_refused(tmp_path: Path, small: SimConfig) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput) as err:
        generate(small, out=tmp_path, progress=SilentProgress())
    assert err.value.code == "sim.out_not_empty"


def test_layout_manifest_and_no_partial_directory(chain: Path) -> None:
    manifest = json.loads((chain / "manifest.json").read_text())
    assert manifest["config"]["start"] == "2026-01-20"
    assert manifest["rows"]["pos.orders"] > 0
    assert (chain / "truth" / "identity_map.parquet").exists()
    assert not list(chain.parent.glob(".*partial"))
    assert (chain / "sources" / "pos" / "orders" / "2026-02.csv").exists()


def test_every_declared_kind_has_files_with_the_declared_columns(chain: Path) -> None:
    import pyarrow.parquet as pq

    for decl in SOURCE_FILES:
        files = sorted((chain / "sources").glob(decl.pattern))
        assert files, decl.name
        sources = {c.source for c in decl.columns if c.source is not None}
        for file in files:
            if decl.format == "parquet":
                names = set(pq.read_schema(file).names)
            elif decl.format == "csv":
                header = file.read_bytes().split(b"\n", 1)[0].decode(decl.encoding)
                names = {h.strip('"') for h in header.split(",")}
            else:
                first = file.read_text(encoding="utf-8").split("\n", 1)[0]
                names = set(json.loads(first)) if first else sources
            assert sources <= names, (decl.name, file.name, sources - names)


def test_start_date_is_respected(chain: Path) -> None:
    stores = (chain / "sources" / "erp" / "stores.csv").read_text()
    assert "S0001" in stores
    assert dt.date(2026, 1, 20).isoformat() in (chain / "manifest.json").read_text()
