"""The gateway's account rules on their own: passwords, staff scope over residents, and the throttle's exemption."""
from __future__ import annotations

from gateway.rules import accounts, passwords, signin
from linli.auth import Principal


def test_an_account_without_a_password_matches_no_password_not_even_the_dummys_own():
    assert passwords.matches(None, "timing-equaliser") is False
    assert passwords.matches(None, "anything") is False
    real = passwords.hash_of("a-good-password")
    assert passwords.matches(real, "a-good-password") and not passwords.matches(real, "a-good-passwore")


def test_staff_see_residents_of_the_communities_they_watch_over_only():
    lin = Principal("acc_lin", "coordinator", "Lin", communities=("lianxi",))
    wang = Principal("acc_wang", "coordinator", "Wang", communities=("pengfei",))
    root = Principal("acc_root", "admin", "Root")
    grandma = {"_id": "acc_1", "role": "resident", "profile": {"community_id": "lianxi"}}
    grandpa = {"_id": "acc_2", "role": "resident", "profile": {"community_id": "pengfei"}}
    unplaced = {"_id": "acc_3", "role": "resident", "profile": {}}
    provider = {"_id": "acc_4", "role": "provider", "profile": {"community_id": "lianxi"}}
    assert [accounts.sees_resident(lin, a) for a in (grandma, grandpa, unplaced, provider)] == [True, False, False, False]
    assert [accounts.sees_resident(wang, a) for a in (grandma, grandpa, unplaced, provider)] == [False, True, False, False]
    assert [accounts.sees_resident(root, a) for a in (grandma, grandpa, unplaced, provider)] == [True, True, True, False]


def test_the_account_wide_counter_spares_only_a_known_address():
    counters = signin.counters("Wang", "10.0.0.2")
    assert [keys for _, keys in counters] == [("sign-in-pair", "wang", "10.0.0.2"), ("sign-in-address", "10.0.0.2"),
                                              ("sign-in-account", "wang")]
    assert [signin.applies(limit, known_address=True) for limit, _ in counters] == [True, True, False]
    assert [signin.applies(limit, known_address=False) for limit, _ in counters] == [True, True, True]
