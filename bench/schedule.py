"""The shortest possible apply of an operation graph: what the critical-path bound cannot say.

The benches compare an apply with max(heaviest chain, total work / workers). That bound can be out of reach:
when many operations are released late (services after their integrations), no order of the workers does
better than some makespan above it. This module finds the true optimum for the benches' weights with a
constraint solver (OR-Tools CP-SAT: each operation an interval of its weight, dependencies as precedences,
at most ``parallelism`` at once), so that a figure can be read against what any scheduler could do.

OR-Tools is optional (``pip install -e '.[bench]'``); without it the benches say so and print the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import networkx as nx


def optimal_makespan(ops: nx.DiGraph, parallelism: int, weight: Callable[[Hashable], int],
                     seconds: float = 30.0) -> tuple[int, bool] | None:
    """(makespan, proven optimal) in the units of ``weight`` (integers), or None without OR-Tools.

    Operations run whole on one worker (a session runs an operation's statements one after another)."""
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        return None
    horizon = sum(weight(op) for op in ops)
    heaviest: dict[Hashable, int] = {}
    for op in nx.topological_sort(ops):
        heaviest[op] = weight(op) + max((heaviest[q] for q in ops.predecessors(op)), default=0)
    floor = max(max(heaviest.values(), default=0), -(-horizon // parallelism))  # no order beats this
    model = cp_model.CpModel()
    start = {op: model.NewIntVar(0, horizon, f"s{i}") for i, op in enumerate(ops)}
    end = model.NewIntVar(floor, max(floor, horizon), "end")
    intervals: list[Any] = []
    for op in ops:
        w = weight(op)
        if w > 0:
            intervals.append(model.NewFixedSizeIntervalVar(start[op], w, ""))
        model.Add(end >= start[op] + w)
    for before, after in ops.edges():
        model.Add(start[after] >= start[before] + weight(before))
    model.AddCumulative(intervals, [1] * len(intervals), parallelism)
    model.Minimize(end)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return int(solver.Value(end)), status == cp_model.OPTIMAL


def describe(ops: nx.DiGraph, parallelism: int, weight: Callable[[Hashable], int], unit_s: float,
             bound_s: float, measured_s: float) -> str:
    """A bench line's tail: the optimum, its ratio to the bound, and the measured time's ratio to it."""
    found = optimal_makespan(ops, parallelism, weight)
    if found is None:
        return "best possible order: not computed (pip install -e '.[bench]' for OR-Tools)"
    units, proven = found
    best = units * unit_s
    return (f"best possible order {best:5.2f}s ({best / bound_s:4.2f}x the bound{'' if proven else ', not proven'}); "
            f"measured {measured_s / best:4.2f}x that")
