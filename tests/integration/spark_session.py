"""One local Spark session for every Spark test of a run (UI off, one shuffle partition): import
the ``spark`` fixture into a test module. Skips with one line when pyspark or Java is missing."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install 'newretail[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 on the PATH")
    from newretail.lake.engines.spark import local_session

    session = local_session("local[1]")
    session.conf.set("spark.sql.shuffle.partitions", "1")
    yield session
    session.stop()
