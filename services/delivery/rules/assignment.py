"""Which volunteer gets which task this round: an exact assignment on a local matrix (no I/O).

`scipy.optimize.linear_sum_assignment` solves the rectangular matrix directly (tasks x
volunteers, no padding to a square). Ineligible pairs get a penalty larger than any sum of
real costs, so the solver first offers as many tasks as it can and then, among those
choices, the cheapest; pairs it had to make with the penalty are dropped afterwards.
"""
from __future__ import annotations

import numpy as np

# Only the nearest few volunteers of each task, and none further than this, enter the matrix:
# a volunteer across town is never the right person, and a sparse, local matrix stays fast.
NEAREST_PER_TASK = 25
MAX_REACH_M = 8_000.0


def local(allowed: np.ndarray, to_pickup_m: np.ndarray, nearest: int = NEAREST_PER_TASK,
          reach_m: float = MAX_REACH_M) -> np.ndarray:
    """`allowed`, narrowed to each task's `nearest` eligible volunteers within `reach_m` of its pickup."""
    near = allowed & (to_pickup_m <= reach_m)
    if near.shape[1] <= nearest:
        return near
    ranked = np.where(near, to_pickup_m, np.inf)
    cut = np.partition(ranked, nearest - 1, axis=1)[:, nearest - 1:nearest]
    return near & (ranked <= cut)


def assign(cost: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int]]:
    """(task row, volunteer column) pairs: the most tasks covered, then the least total cost."""
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0))
    if len(rows) == 0 or len(cols) == 0:
        return []
    sub_cost = cost[np.ix_(rows, cols)]
    sub_allowed = allowed[np.ix_(rows, cols)]
    real = sub_cost[sub_allowed]
    # Costs may be negative (the affinity bonus): shift them to be non-negative so that one
    # penalty outweighs any total of real costs.
    shift = -min(0.0, float(real.min()))
    penalty = (float(real.max()) + shift + 1.0) * (min(len(rows), len(cols)) + 1)
    matrix = np.where(sub_allowed, sub_cost + shift, penalty)
    from scipy.optimize import linear_sum_assignment  # here, not at the top: scipy costs a process that only
    # reads delivery's handlers table (a relay declaring the topology, linli.topology.subscriptions) ~60 MB

    picked_rows, picked_cols = linear_sum_assignment(matrix)
    return [(int(rows[r]), int(cols[c])) for r, c in zip(picked_rows, picked_cols) if sub_allowed[r, c]]
