"""The exact assignment against brute force: most tasks covered, then the least total cost."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.delivery.rules.assignment import assign, local


def _brute_force(cost, allowed):
    """Every way of giving distinct volunteers to tasks (or none): (tasks covered, -cost) at its best."""
    n, m = cost.shape
    best = (0, 0.0)
    for choice in itertools.product(range(-1, m), repeat=n):
        picked = [j for j in choice if j >= 0]
        if len(picked) != len(set(picked)) or any(j >= 0 and not allowed[i, j] for i, j in enumerate(choice)):
            continue
        total = sum(cost[i, j] for i, j in enumerate(choice) if j >= 0)
        best = max(best, (len(picked), -total))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_assignment_matches_brute_force_on_small_towns(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 5), rng.integers(1, 6)
    cost = rng.uniform(-600, 3000, size=(n, m)).round(1)  # negative: an affinity bonus beat the travel
    allowed = rng.random((n, m)) < 0.6
    pairs = assign(cost, allowed)
    assert len({j for _, j in pairs}) == len(pairs) == len({i for i, _ in pairs})
    assert all(allowed[i, j] for i, j in pairs)
    covered, best = _brute_force(cost, allowed)
    assert len(pairs) == covered
    assert -sum(cost[i, j] for i, j in pairs) == pytest.approx(best)


def test_it_does_not_give_everyone_the_nearest_volunteer():
    # both tasks are nearest to volunteer 0; the pair (0->1, 1->0) is cheaper in total than greedy's choice
    cost = np.array([[100.0, 120.0], [110.0, 500.0]])
    assert sorted(assign(cost, np.ones((2, 2), dtype=bool))) == [(0, 1), (1, 0)]


def test_nobody_eligible_means_no_pairs():
    assert assign(np.ones((3, 2)), np.zeros((3, 2), dtype=bool)) == []


def test_the_matrix_stays_local_to_each_task():
    to_pickup = np.array([[100.0, 200.0, 300.0, 9000.0], [400.0, 50.0, 60.0, 70.0]])
    allowed = np.ones((2, 4), dtype=bool)
    allowed[1, 1] = False
    narrowed = local(allowed, to_pickup, nearest=2, reach_m=8000)
    assert narrowed.tolist() == [[True, True, False, False], [False, False, True, True]]
