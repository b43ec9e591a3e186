"""Bills of materials flattened to base units of material per unit of product, through any number of
levels: a component may itself be a product made in the store (a house syrup, a cold-brew batch).

A cycle (a product that ends up containing itself) is refused, naming the whole loop, since it
would make every quantity downstream of it infinite.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from newretail.errors import InvalidInput

BomRow = tuple[str, str, int]  # (product, component: a material or another product, quantity)


def flatten_bom(
    rows: Iterable[BomRow], *, product_ids: np.ndarray, material_ids: np.ndarray
) -> np.ndarray:
    """(P, M) base units of each material in one unit of each product, all levels summed."""
    p_index = {str(p): i for i, p in enumerate(product_ids)}
    m_index = {str(m): i for i, m in enumerate(material_ids)}
    children: dict[str, list[tuple[str, int]]] = {}
    for product, component, quantity in rows:
        if product not in p_index:
            raise InvalidInput(
                "supply.bom_unknown_item",
                f"bill of materials names unknown product {product}",
                field=f"{product}/{component}",
            )
        if component not in m_index and component not in p_index:
            raise InvalidInput(
                "supply.bom_unknown_item",
                f"bill of materials of {product} names unknown component {component}",
                field=f"{product}/{component}",
            )
        if quantity < 0:
            raise InvalidInput(
                "supply.bom_bad_quantity",
                f"negative quantity of {component} in {product}",
                field=f"{product}/{component}",
            )
        children.setdefault(product, []).append((component, quantity))
    flat = np.zeros((len(p_index), len(m_index)), dtype=np.int64)
    done: dict[str, np.ndarray] = {}

    def expand(product: str, path: tuple[str, ...]) -> np.ndarray:
        if product in path:
            loop = " → ".join((*path[path.index(product) :], product))
            raise InvalidInput(
                "supply.bom_cycle", f"bill of materials has a cycle: {loop}", field=product
            )
        if product in done:
            return done[product]
        row = np.zeros(len(m_index), dtype=np.int64)
        for component, quantity in children.get(product, []):
            if component in m_index:
                row[m_index[component]] += quantity
            else:
                row += quantity * expand(component, (*path, product))
        done[product] = row
        return row

    for product, i in p_index.items():
        flat[i] = expand(product, ())
    return flat
