"""Console translations: one JSON catalogue per language, the same keys in each (a test checks)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
DEFAULT: Language = "zh-CN"


@cache
def catalogue(language: Language) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def translate(language: Language, key: str, **values: object) -> str:
    """The message for ``key`` in ``language``, with ``{name}`` placeholders filled."""
    message = catalogue(language).get(key) or catalogue("en").get(key) or key
    return message.format(**values) if values else message


def translate_value(language: Language, prefix: str, value: object) -> str:
    """The label of a code (``source.wechat``), or the code itself when it has none: a source or a
    channel added later still shows."""
    text = str(value)
    return (
        catalogue(language).get(f"{prefix}.{text}")
        or catalogue("en").get(f"{prefix}.{text}")
        or text
    )


def as_language(text: str | None) -> Language | None:
    """``text`` if it names a console language, else None."""
    return next((language for language in LANGUAGES if language == text), None)


def pick_language(cookie: str | None, accept_language: str | None) -> Language:
    """The language chosen with the switch, else the browser's first supported preference, else
    Chinese.

    >>> pick_language(None, "fr-FR, en;q=0.8, zh;q=0.5")
    'en'
    """
    chosen = as_language(cookie)
    if chosen is not None:
        return chosen
    for tag in _preferences(accept_language or ""):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def _preferences(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first (q=0 ones dropped)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().lower().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
