"""Bad input on the command line: one clear line on stderr, exit 2, nothing written, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NEWRETAIL = Path(sys.executable).with_name("newretail")


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWRETAIL_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [str(NEWRETAIL), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def listing(root: Path) -> list[tuple[str, int]]:
    if not root.exists():
        return []
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error[{code}]: "), lines[0]
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("build", "--from", "2026-13-01"), "cli.bad_date"),
        (("build", "--from", "2026-03-02", "--to", "2026-03-01"), "cli.bad_range"),
        (("generate", "--out", "{tmp}/chain", "--members", "5"), "sim.bad_config"),
        (("ingest", "{tmp}/does-not-exist"), "ingest.missing_dir"),
        (("build", "--from", "2001-01-01", "--to", "2001-01-31"), "build.no_data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], code: str) -> None:
    home = tmp_path / "home"
    done = run(home, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert_one_line_error(done, code)
    assert listing(home / "lake") == []
    assert not (tmp_path / "chain").exists()


def test_unknown_source_folder_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sources = tmp_path / "sources"
    (sources / "not_a_system").mkdir(parents=True)
    (sources / "not_a_system" / "x.csv").write_text("a,b\n1,2\n")
    done = run(home, "ingest", str(sources))
    assert_one_line_error(done, "ingest.unknown_source")
    assert listing(home / "lake") == []


def test_unknown_engine_is_refused_by_the_cli(tmp_path: Path) -> None:
    done = run(tmp_path / "home", "build", "--engine", "oracle")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
