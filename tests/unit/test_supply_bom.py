"""Bills of materials flatten through intermediate products and refuse cycles and unknown items."""

from __future__ import annotations

import numpy as np
import pytest

from newretail.errors import InvalidInput
from newretail.supply.bom import flatten_bom

PRODUCTS = np.array(["P1", "P2", "SYRUP"])
MATERIALS = np.array(["M1", "M2", "M3"])


def test_single_level_rows_sum_per_product_and_material() -> None:
    flat = flatten_bom(
        [("P1", "M1", 18), ("P1", "M2", 200), ("P1", "M1", 2), ("P2", "M3", 1)],
        product_ids=PRODUCTS,
        material_ids=MATERIALS,
    )
    assert flat.tolist() == [[20, 200, 0], [0, 0, 1], [0, 0, 0]]


def test_intermediate_products_multiply_through_every_level() -> None:
    # A latte takes 2 portions of house syrup; a portion is 10 ml of M2 and 1 g of M3.
    flat = flatten_bom(
        [("P1", "SYRUP", 2), ("P1", "M1", 18), ("SYRUP", "M2", 10), ("SYRUP", "M3", 1)],
        product_ids=PRODUCTS,
        material_ids=MATERIALS,
    )
    assert flat[0].tolist() == [18, 20, 2]
    assert flat[2].tolist() == [0, 10, 1]


def test_a_cycle_is_refused_naming_the_loop() -> None:
    with pytest.raises(InvalidInput) as caught:
        flatten_bom(
            [("P1", "SYRUP", 1), ("SYRUP", "P2", 1), ("P2", "SYRUP", 1)],
            product_ids=PRODUCTS,
            material_ids=MATERIALS,
        )
    assert caught.value.code == "supply.bom_cycle"
    assert "SYRUP → P2 → SYRUP" in caught.value.message


def test_a_product_containing_itself_is_a_cycle() -> None:
    with pytest.raises(InvalidInput) as caught:
        flatten_bom([("P1", "P1", 1)], product_ids=PRODUCTS, material_ids=MATERIALS)
    assert caught.value.code == "supply.bom_cycle"
    assert caught.value.field == "P1"


@pytest.mark.parametrize(
    ("row", "code"),
    [
        (("P9", "M1", 1), "supply.bom_unknown_item"),
        (("P1", "M9", 1), "supply.bom_unknown_item"),
        (("P1", "M1", -1), "supply.bom_bad_quantity"),
    ],
)
def test_bad_rows_name_the_item(row: tuple[str, str, int], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        flatten_bom([row], product_ids=PRODUCTS, material_ids=MATERIALS)
    assert caught.value.code == code
    assert caught.value.field == f"{row[0]}/{row[1]}"
