"""Identity rules from JSON: overrides apply, mistakes are refused with a clear code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newretail.errors import InvalidInput
from newretail.identity.rules import IdentityRules, load_rules


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert load_rules(tmp_path / "absent.json") == IdentityRules()


def test_a_file_overrides_fan_out_and_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    path.write_text(
        json.dumps(
            {
                "identifiers": [{"kind": "phone", "column": "phone_hash", "max_records": 3}],
                "accept_probability": 0.995,
            }
        )
    )
    rules = load_rules(path)
    assert rules.rule("phone").max_records == 3
    assert rules.accept_probability == 0.995


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"colour": "blue"}),
        json.dumps({"identifiers": [{"kind": "phone"}]}),
        json.dumps({"survivorship": {"name": "loudest"}}),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "identity.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as caught:
        load_rules(path)
    assert caught.value.code == "identity.bad_rules"


def test_an_unknown_identifier_type_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        IdentityRules().rule("fax")
    assert caught.value.code == "identity.unknown_type"
