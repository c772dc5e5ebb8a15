"""The delivery task machine is a table (rules.domain.MOVES): every action from every state is either
in the table or refused with the current state and a sentence written for that action."""
import itertools

import pytest

from linli.domain_errors import Forbidden, IllegalMove
from services.delivery.rules import domain

ROLES = ("resident", "provider", "volunteer", "coordinator", "admin", domain.SYSTEM)
LEGAL = {(m.action, src): m.target for m in domain.MOVES for src in m.sources}


def test_a_meal_from_the_kitchen_to_the_door():
    path = [("meal_ready", domain.SYSTEM), ("offer", domain.SYSTEM), ("accept", "volunteer"),
            ("pick_up", "volunteer"), ("hand_over", "volunteer")]
    state, seen = "waiting", ["waiting"]
    for action, role in path:
        state = domain.next_state(state, action, role)
        seen.append(state)
    assert seen == ["waiting", "ready", "offered", "assigned", "picked_up", "delivered"]


def test_the_board_a_welfare_check_and_a_second_trip():
    state = "waiting"
    for action, role in [("escalate", domain.SYSTEM), ("assign", "coordinator"), ("report_nobody_answers", "volunteer"),
                         ("close_welfare_check", "coordinator"), ("send_out_again_meal_ready", domain.SYSTEM)]:
        state = domain.next_state(state, action, role)
    assert state == "ready"


@pytest.mark.parametrize("state,action", list(itertools.product(
    domain.TASK_STATES, [m.action for m in domain.MOVES] + ["teleport"])))
def test_every_move_not_in_the_table_is_refused_with_the_current_state(state, action):
    move = next((m for m in domain.MOVES if m.action == action), None)
    role = move.roles[0] if move else "volunteer"
    if (action, state) in LEGAL:
        assert domain.next_state(state, action, role) == LEGAL[(action, state)]
    else:
        with pytest.raises(IllegalMove) as refused:
            domain.next_state(state, action, role)
        assert refused.value.current == state
        assert refused.value.message.endswith(".") and "cannot be " + action not in refused.value.message


@pytest.mark.parametrize("move,role", [(m, r) for m in domain.MOVES for r in ROLES if r not in m.roles])
def test_only_the_listed_roles_may_make_a_move(move, role):
    with pytest.raises(Forbidden):
        domain.next_state(move.sources[0], move.action, role)


def test_finished_deliveries_move_only_to_be_sent_out_again():
    for state in domain.FINISHED_STATES:
        for move in domain.MOVES:
            if state == "failed" and move.action.startswith("send_out_again"):
                continue
            with pytest.raises(IllegalMove):
                domain.next_state(state, move.action, move.roles[0])


def test_every_state_is_reached_and_every_move_lands_on_a_state():
    targets = {m.target for m in domain.MOVES}
    sources = {s for m in domain.MOVES for s in m.sources}
    assert targets | {"waiting"} == set(domain.TASK_STATES)
    assert sources <= set(domain.TASK_STATES) and targets <= set(domain.TASK_STATES)
    assert set(domain.sources_of("assign")) == set(domain.UNHELD_STATES)
    assert set(domain.sources_of("cancel")) == set(domain.UNHELD_STATES + domain.HELD_STATES)


def test_each_refusal_is_its_own_sentence():
    people = [m for m in domain.MOVES if domain.SYSTEM not in m.roles]
    assert len({m.refused for m in people}) == len(people)


def test_a_task_goes_back_on_the_ladder_as_ready_only_when_its_meal_is():
    assert domain.move_of(domain.back_on_ladder(True)).target == "ready"
    assert domain.move_of(domain.back_on_ladder(False)).target == "waiting"


class _Tasks:
    """Stands in for the tasks collection: records the conditional update the store asks for."""
    def __init__(self):
        self.queries = []

    def update_one(self, query, change, session=None):
        self.queries.append((query, change))
        return type("Result", (), {"modified_count": 1})()


@pytest.mark.parametrize("move", domain.MOVES, ids=lambda m: m.action)
def test_the_store_moves_a_task_only_from_the_states_of_the_table(move):
    from types import SimpleNamespace

    from services.delivery import store
    tasks = _Tasks()
    unit = SimpleNamespace(db=SimpleNamespace(tasks=tasks), session=None)
    assert store.move_task(unit, "tsk_1", move.action, {"$set": {"note": "x"}}, where={"volunteer_id": "v"})
    [(query, change)] = tasks.queries
    assert query == {"_id": "tsk_1", "status": {"$in": list(move.sources)}, "volunteer_id": "v"}
    assert change["$set"] == {"note": "x", "status": move.target}
    outside = next((s for s in domain.TASK_STATES if s not in move.sources), None)
    if outside:
        assert not store.move_task(unit, "tsk_1", move.action, only_from=outside), "never from a state not listed"
        assert len(tasks.queries) == 1
