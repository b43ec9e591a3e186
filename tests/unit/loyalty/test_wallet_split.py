"""The wallet's proportional split: a payment takes principal and bonus in proportion, and refunds in
any number of parts give back exactly what the payment took from each."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from newretail.loyalty.wallet import split_payment, split_refund

money = st.integers(min_value=0, max_value=10**9)


def test_examples() -> None:
    assert split_payment(100, principal_minor=300, bonus_minor=100) == (75, 25)
    assert split_payment(1, principal_minor=1, bonus_minor=1) == (1, 0)  # rounding: principal
    assert split_payment(5, principal_minor=0, bonus_minor=5) == (0, 5)
    assert split_refund(50, paid=(75, 25), refunded=(0, 0)) == (38, 12)
    assert split_refund(50, paid=(75, 25), refunded=(38, 12)) == (37, 13)


@given(principal=money, bonus=money, data=st.data())
def test_a_payment_takes_each_part_in_proportion_within_what_it_holds(
    principal: int, bonus: int, data: st.DataObject
) -> None:
    total = principal + bonus
    amount = data.draw(st.integers(min_value=0, max_value=total))
    from_principal, from_bonus = split_payment(amount, principal_minor=principal, bonus_minor=bonus)
    assert from_principal + from_bonus == amount
    assert 0 <= from_principal <= principal and 0 <= from_bonus <= bonus
    if total:
        # The bonus share is the exact proportion rounded down: never more, less by under 1.
        assert from_bonus * total <= amount * bonus < (from_bonus + 1) * total


@given(
    paid=st.tuples(money, money).filter(lambda parts: sum(parts) > 0),
    cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=6),
)
def test_refunds_in_parts_add_up_to_what_the_payment_took(
    paid: tuple[int, int], cuts: list[float]
) -> None:
    total = sum(paid)
    marks = sorted({0, total, *(int(total * cut) for cut in cuts)})
    refunded = (0, 0)
    for before, after in itertools.pairwise(marks):
        to_principal, to_bonus = split_refund(after - before, paid=paid, refunded=refunded)
        assert to_principal >= 0 and to_bonus >= 0
        assert to_principal + to_bonus == after - before
        refunded = (refunded[0] + to_principal, refunded[1] + to_bonus)
        assert refunded[0] <= paid[0] and refunded[1] <= paid[1]
    assert refunded == paid
