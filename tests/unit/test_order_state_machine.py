"""The order state machine refuses every transition it does not list."""
import itertools

import pytest

from linli.domain_errors import Forbidden, IllegalMove
from services.orders.rules import moves as domain

FULFILMENTS = ("delivered", "on_site", "remote")
ROLES = ("resident", "provider", "volunteer", "coordinator", "admin", domain.SYSTEM)
LEGAL = {(m.action, src, m.target, f) for m in domain.MOVES for src in m.sources for f in m.fulfilments}


def test_the_happy_path_of_a_delivered_meal():
    path = [("reservation_confirmed", domain.SYSTEM), ("payment_succeeded", domain.SYSTEM), ("accept", "provider"),
            ("ready", "provider"), ("picked_up", domain.SYSTEM), ("delivered", domain.SYSTEM)]
    state, seen = "placed", ["placed"]
    for action, role in path:
        state = domain.next_state(state, action, role, "delivered")
        seen.append(state)
    assert seen == ["placed", "awaiting_payment", "paid", "accepted", "ready", "delivering", "completed"]


@pytest.mark.parametrize("state,action,fulfilment", list(itertools.product(
    domain.STATES, [m.action for m in domain.MOVES] + ["refund", "teleport"], FULFILMENTS)))
def test_every_transition_not_in_the_table_is_refused_with_the_current_state(state, action, fulfilment):
    legal = [(a, s, t, f) for (a, s, t, f) in LEGAL if a == action and s == state and f == fulfilment]
    move = next((mv for mv in domain.MOVES if mv.action == action), None)
    role = move.roles[0] if move else "resident"
    if legal:
        assert domain.next_state(state, action, role, fulfilment) == legal[0][2]
    else:
        with pytest.raises(IllegalMove) as refused:
            domain.next_state(state, action, role, fulfilment)
        assert refused.value.current == state


@pytest.mark.parametrize("move,role", [(m, r) for m in domain.MOVES for r in ROLES if r not in m.roles])
def test_only_the_listed_roles_may_make_a_move(move, role):
    with pytest.raises(Forbidden):
        domain.next_state(move.sources[0], move.action, role, move.fulfilments[0])


def test_finished_orders_never_move_again():
    for state in domain.TERMINAL:
        for move in domain.MOVES:
            with pytest.raises(IllegalMove):
                domain.next_state(state, move.action, move.roles[0], move.fulfilments[0])


def test_a_delivered_order_cannot_be_completed_by_the_resident_and_an_on_site_one_has_no_courier():
    with pytest.raises(IllegalMove):
        domain.next_state("accepted", "done", "provider", "delivered")
    with pytest.raises(IllegalMove):
        domain.next_state("accepted", "picked_up", domain.SYSTEM, "on_site")
    assert domain.next_state("accepted", "done", "provider", "on_site") == "service_done"
    assert domain.next_state("service_done", "complete", "resident", "on_site") == "completed"


def test_every_state_has_words_for_the_resident():
    assert set(domain.READABLE) == set(domain.STATES)


@pytest.mark.parametrize("move,state", [(m, s) for m in domain.MOVES for s in domain.STATES if s not in m.sources])
def test_each_refusal_is_the_actions_own_sentence_naming_the_state(move, state):
    with pytest.raises(IllegalMove) as refused:
        domain.next_state(state, move.action, move.roles[0], move.fulfilments[0])
    assert refused.value.message.startswith(domain.REFUSALS[move.action] + ": ")
    assert refused.value.message.endswith(domain.AS_IT_IS[state] + ".")
    assert refused.value.details == {"current_status": state, "action": move.action}


def test_every_move_and_the_cashier_have_a_refusal_and_no_sentence_is_built_from_a_verb():
    assert set(domain.REFUSALS) == {m.action for m in domain.MOVES} | {"pay"}
    assert all(" now" in sentence and "eded" not in sentence and "yed " not in sentence
               for sentence in domain.REFUSALS.values())
