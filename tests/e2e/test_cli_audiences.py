"""``newretail audience save|list|export`` on a copy of the session's tagged chain: the export's
file (and its ``--out`` copy) has as many rows as it reports, holds exactly the members who said yes
on the channel (computed here from the ADS tag table and the DWD persons), and is audited as the
CLI's; an unknown audience or a bad option is one line and exit 2; an existing ``--out`` is refused
with nothing written."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import typer
from sqlalchemy import Engine, func, select
from tests.integration.audience_home import audience_template, copy_home
from typer.testing import CliRunner, Result

from newretail.cli import audience as audience_cli
from newretail.cli.audience import audience_app
from newretail.config import get_settings
from newretail.lake import Lake
from newretail.oltp import engine_from_settings
from newretail.oltp.tables import audience_exports, audit_log
from newretail.tags.compute import latest_refresh

pytestmark = pytest.mark.slow
__all__ = ["audience_template"]

BUYERS = "orders_90d >= 1"
EXPORTED = re.compile(
    r"^export (exp_\w+) of (aud_\w+) \(snapshot (snap_\w+)\): ([\d,]+) rows,"
    r" ([\d,]+) excluded without (\w+) consent$",
    re.MULTILINE,
)

app = typer.Typer()
app.add_typer(audience_app, name="audience")


@pytest.fixture(scope="module")
def module_home(audience_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(audience_template, tmp_path_factory.mktemp("cli-audiences") / "home")


@pytest.fixture
def home(module_home: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NEWRETAIL_HOME", str(module_home))
    # Wide enough that no table cell wraps: the console took its width when it was made, from the
    # COLUMNS of whichever process imported it (a test worker has no terminal to ask).
    monkeypatch.setattr(audience_cli.console, "width", 200)
    get_settings.cache_clear()
    yield module_home
    get_settings.cache_clear()


@pytest.fixture
def oltp(home: Path) -> Iterator[Engine]:
    engine = engine_from_settings(get_settings())
    yield engine
    engine.dispose()


def number(text: str) -> int:
    return int(text.replace(",", ""))


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["audience", *args])


def save(name: str, text: str) -> str:
    done = run("save", name, text)
    assert done.exit_code == 0, done.output
    found = re.search(r"saved (aud_\w+) with", done.stdout)
    assert found is not None, done.stdout
    return found.group(1)


def members(home: Path, where: str) -> set[str]:
    """The persons the tag table selects, by SQL written here (not the audience evaluator)."""
    refresh = latest_refresh(Lake(home / "lake"), "person")
    assert refresh is not None
    sql = f"SELECT person_id FROM read_parquet('{refresh.path}') WHERE {where}"
    return {row[0] for row in duckdb.connect().execute(sql).fetchall()}


def consenting(home: Path, channel: str) -> set[str]:
    """The persons whose DWD record says yes on ``channel``."""
    files = [str(f) for f in Lake(home / "lake").files("dwd", "persons")]
    sql = f"SELECT person_id FROM read_parquet({files!r}) WHERE consent_{channel}"
    return {row[0] for row in duckdb.connect().execute(sql).fetchall()}


def listing(root: Path) -> list[tuple[str, int]]:
    if not root.exists():
        return []
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def counts(oltp: Engine) -> tuple[int, int]:
    with oltp.connect() as conn:
        exports = conn.execute(select(func.count()).select_from(audience_exports)).scalar_one()
        audits = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    return exports, audits


def assert_one_line_error(done: Result, code: str) -> None:
    assert done.exit_code == 2, done.output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]: "), done.stderr
    assert done.stdout == ""


def test_export_to_out_has_the_consenting_members_and_is_audited(
    home: Path, oltp: Engine, tmp_path: Path
) -> None:
    audience_id = save("buyers for sms", BUYERS)
    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert re.search(rf"{audience_id}\s.*buyers for sms\s.*[\d,]+\s", listed.stdout), listed.stdout

    out = tmp_path / "buyers.csv"
    done = run("export", audience_id, "--kind", "csv", "--consent", "sms", "--out", str(out))
    assert done.exit_code == 0, done.output
    found = EXPORTED.search(done.stdout)
    assert found is not None, done.stdout
    export_id, rows, excluded = found[1], number(found[4]), number(found[5])
    assert (found[2], found[6]) == (audience_id, "sms")
    file = re.search(r"^file (.+)$", done.stdout, re.MULTILINE)
    assert file is not None and Path(file[1]) == home / "exports" / f"{export_id}.csv"
    assert out.read_bytes() == Path(file[1]).read_bytes()

    with out.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == rows > 0
    ids = [r["person_id"] for r in written]
    selected = members(home, BUYERS)
    allowed = selected & consenting(home, "sms")
    assert set(ids) <= consenting(home, "sms")
    assert sorted(ids) == sorted(allowed)
    assert excluded == len(selected) - len(allowed) > 0

    with oltp.connect() as conn:
        audited = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "export.created", audit_log.c.target_id == export_id
            )
        ).all()
    assert [(a.actor, a.detail) for a in audited] == [("cli", {"kind": "csv", "rows": rows})]

    # The same frozen snapshot again, for another channel: no new snapshot, only e-mail consent.
    snapshot = found[3]
    again = run("export", audience_id, "--consent", "email", "--snapshot", snapshot)
    assert again.exit_code == 0, again.output
    second = EXPORTED.search(again.stdout)
    assert second is not None and second[3] == snapshot, again.stdout
    second_file = home / "exports" / f"{second[1]}.csv"
    with second_file.open(newline="") as handle:
        emailed = {r["person_id"] for r in csv.DictReader(handle)}
    assert emailed == selected & consenting(home, "email")
    assert len(emailed) == number(second[4])


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("aud_doesnotexist", "--consent", "sms"), "audience.unknown"),
        (("{audience}", "--consent", "fax"), "audience.bad_consent"),
        (("{audience}", "--consent", "sms", "--kind", "xlsx"), "audience.bad_kind"),
        (
            ("{audience}", "--consent", "sms", "--snapshot", "snap_nope"),
            "audience.unknown_snapshot",
        ),
    ],
)
def test_bad_export_is_one_line_and_exit_2(
    home: Path, oltp: Engine, args: tuple[str, ...], code: str
) -> None:
    audience_id = save("buyers", BUYERS)
    before, files = counts(oltp), listing(home / "exports")
    done = run("export", *(a.replace("{audience}", audience_id) for a in args))
    assert_one_line_error(done, code)
    assert counts(oltp) == before
    assert listing(home / "exports") == files


def test_out_onto_an_existing_file_is_refused_with_nothing_written(
    home: Path, oltp: Engine, tmp_path: Path
) -> None:
    audience_id = save("buyers kept", BUYERS)
    out = tmp_path / "taken.csv"
    out.write_text("keep me\n")
    before, files = counts(oltp), listing(home / "exports")
    done = run("export", audience_id, "--consent", "sms", "--out", str(out))
    assert_one_line_error(done, "cli.out_exists")
    assert out.read_text() == "keep me\n"
    assert counts(oltp) == before
    assert listing(home / "exports") == files
