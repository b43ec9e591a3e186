"""The tag catalogue: every tag's declarative definition, loaded from the TOML files in
``definitions/`` (one ``[[tag]]`` table per tag, or one ``[[family]]`` expanded over ``each``).

An enum tag whose domain is data, such as the home store's id, declares ``values_from`` (a domain
name such as ``store_ids``) instead of ``values``; :meth:`Catalogue.bind` fills its values in when
the tags are computed.

>>> catalogue = Catalogue.shipped()
>>> catalogue.tag("orders_90d").value_type
'number'
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path

from newretail.tags.declarations import TAG_ID, InvalidTagDefinition, load_toml, validate
from newretail.tags.spec import Entity, TagSpec

__all__ = ["TAG_ID", "Catalogue", "InvalidTagDefinition", "load_toml"]


class Catalogue:
    """Tags in display order; ``domains`` maps a data-bound enum tag to its domain name."""

    def __init__(self, specs: Sequence[TagSpec], domains: Mapping[str, str] | None = None) -> None:
        self.specs: tuple[TagSpec, ...] = tuple(specs)
        self.domains: Mapping[str, str] = dict(domains or {})
        self._by_id: dict[str, TagSpec] = {}
        for spec in self.specs:
            if spec.id in self._by_id:
                raise InvalidTagDefinition(
                    f"tag id {spec.id!r} is defined twice", field="id", position=spec.id
                )
            self._by_id[spec.id] = spec

    @classmethod
    def shipped(cls) -> Catalogue:
        """The tags that ship in the package (cached: the files never change at run time)."""
        return _shipped()

    @classmethod
    def from_files(cls, *files: Path) -> Catalogue:
        """The tags declared in ``files`` (TOML), in order."""
        specs: list[TagSpec] = []
        domains: dict[str, str] = {}
        for file in files:
            for spec, domain in load_toml(file.read_text(encoding="utf-8"), name=file.name):
                specs.append(spec)
                if domain is not None:
                    domains[spec.id] = domain
        return cls(tuple(specs), domains)

    # -- lookup ------------------------------------------------------------------------------
    def tag(self, tag_id: str) -> TagSpec | None:
        return self._by_id.get(tag_id)

    def tag_ids(self) -> Sequence[str]:
        return tuple(spec.id for spec in self.specs)

    def for_entity(self, entity: Entity) -> list[TagSpec]:
        return [spec for spec in self.specs if spec.entity == entity]

    def values_from(self, tag_id: str) -> str | None:
        """The data domain an enum tag's values come from, if they are bound at compute time."""
        return self.domains.get(tag_id)

    def __iter__(self) -> Iterator[TagSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, tag_id: object) -> bool:
        return isinstance(tag_id, str) and self.tag(tag_id) is not None

    # -- new catalogues ------------------------------------------------------------------------
    def with_tags(self, extra: Sequence[TagSpec]) -> Catalogue:
        """This catalogue and the user-defined ``extra`` tags after it; each is validated."""
        for spec in extra:
            validate(spec, domain=None, position=f"tag {spec.id!r}")
        return Catalogue((*self.specs, *extra), self.domains)

    def bind(self, domains: Mapping[str, Sequence[str]]) -> Catalogue:
        """The catalogue with each data-bound enum tag's values set from ``domains`` (domain name to
        values in display order); a tag whose domain is not given keeps its values."""
        specs = tuple(
            replace(spec, values=tuple(domains[name]))
            if (name := self.domains.get(spec.id)) is not None and name in domains
            else spec
            for spec in self.specs
        )
        return Catalogue(specs, self.domains)


@functools.cache
def _shipped() -> Catalogue:
    folder = resources.files("newretail.tags") / "definitions"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return Catalogue.from_files(*(Path(str(f)) for f in files))
