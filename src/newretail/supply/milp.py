"""A small HiGHS front for the supply optimisers: a sparse MILP in, values and a status out."""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray

from newretail.errors import InvalidInput, NewRetailError

CONTINUOUS = int(highspy.HighsVarType.kContinuous)
INTEGER = int(highspy.HighsVarType.kInteger)


class NoSolution(NewRetailError):
    """The solver stopped (time limit, numerical trouble) before it found any feasible solution."""

    http_status = 422


@dataclass(frozen=True)
class Solution:
    x: NDArray[np.float64]
    status: str
    """``optimal`` (within the relative MIP gap) or ``time_limit`` (the best found in time)."""
    gap: float
    seconds: float
    """The solver's run time, for budgeting a time limit over several solves."""


@dataclass
class Rows:
    """Constraint rows gathered block by block as (row, column, value) triplets."""

    n_columns: int
    _row: list[NDArray[np.int64]] = field(default_factory=list)
    _column: list[NDArray[np.int64]] = field(default_factory=list)
    _value: list[NDArray[np.float64]] = field(default_factory=list)
    _lower: list[NDArray[np.float64]] = field(default_factory=list)
    _upper: list[NDArray[np.float64]] = field(default_factory=list)
    _count: int = 0

    def add(
        self,
        row: NDArray[np.int64],
        column: NDArray[np.int64],
        value: NDArray[np.float64],
        *,
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
    ) -> None:
        """Add ``len(lower)`` rows; ``row`` numbers them from 0 within this block."""
        self._row.append(np.asarray(row, dtype=np.int64) + self._count)
        self._column.append(np.asarray(column, dtype=np.int64))
        self._value.append(np.asarray(value, dtype=np.float64))
        self._lower.append(np.asarray(lower, dtype=np.float64))
        self._upper.append(np.asarray(upper, dtype=np.float64))
        self._count += len(lower)

    def solve(
        self,
        *,
        cost: NDArray[np.float64] | NDArray[np.int64],
        offset: float,
        lower: NDArray[np.float64] | NDArray[np.int64],
        upper: NDArray[np.float64] | NDArray[np.int64],
        integrality: NDArray[np.int64],
        start: NDArray[np.float64] | NDArray[np.int64] | NDArray[np.bool_] | None,
        time_limit_s: float,
        mip_rel_gap: float,
        infeasible_field: str,
        lp_solver: str = "choose",
    ) -> Solution:
        """Minimise ``cost·x + offset`` over these rows and the column bounds.

        ``offset`` (the cost no decision changes) makes the relative gap relative to the whole cost.
        ``start`` is a feasible solution HiGHS starts from, so the answer is never worse.
        ``lp_solver`` is HiGHS's ``solver`` option: ``ipm`` solves the large LP relaxations here
        several times faster than simplex. An infeasible model raises InvalidInput naming
        ``infeasible_field``; no solution within the time limit raises NoSolution.
        """
        row = np.concatenate(self._row)
        order = np.argsort(row, kind="stable")
        starts = np.searchsorted(row[order], np.arange(self._count + 1))
        h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ unannotated
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit_s))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.setOptionValue("solver", lp_solver)
        h.passModel(
            self.n_columns,
            self._count,
            len(row),
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMinimize),
            offset,
            np.asarray(cost, dtype=np.float64),
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
            np.concatenate(self._lower),
            np.concatenate(self._upper),
            starts.astype(np.int64),
            np.concatenate(self._column)[order],
            np.concatenate(self._value)[order],
            integrality,
        )
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=np.float64).tolist()
            h.setSolution(solution)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InvalidInput(
                "supply.infeasible", "no plan meets every constraint", field=infeasible_field
            )
        feasible = int(highspy.SolutionStatus.kSolutionStatusFeasible)
        if h.getInfo().primal_solution_status != feasible or status not in (
            highspy.HighsModelStatus.kOptimal,
            highspy.HighsModelStatus.kTimeLimit,
        ):
            raise NoSolution(
                "supply.no_solution",
                f"the solver stopped ({h.modelStatusToString(status)}) without a plan; "
                "allow more time or make the problem smaller",
            )
        return Solution(
            x=np.asarray(h.getSolution().col_value, dtype=np.float64),
            status="optimal" if status == highspy.HighsModelStatus.kOptimal else "time_limit",
            gap=float(h.getInfo().mip_gap),
            seconds=h.getRunTime(),
        )
