"""The payment provider is chosen by configuration, and the stub cannot be deployed by mistake (issue 12,
item 7): a production configuration refuses to start with it unless it says it is a demo. The stub's
cashier is the payer's alone: two residents, and the one holding the other's link is refused."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from linli.auth import Principal
from linli.config import ROOT, Settings
from services.orders import bootstrap, store
from services.orders.app import create_app
from services.orders.paystub import store as paystub_store
from tests.integration import orders_kit as kit

NEIGHBOUR = Principal(id="acc_neighbour", role="resident", name="Li")


def _settings(**env) -> Settings:
    return Settings.from_env({"LINLI_VAR_DIR": "/nonexistent", **env})


def test_the_stub_refuses_to_start_in_a_production_configuration():
    with pytest.raises(bootstrap.RefusedToStart) as refused:
        bootstrap.payment_provider(_settings(LINLI_ENV="production"))
    assert refused.value.code == bootstrap.EX_CONFIG == 78
    assert "stub payment provider" in refused.value.message and "LINLI_DEMO=1" in refused.value.message
    with pytest.raises(bootstrap.RefusedToStart) as unknown:
        bootstrap.payment_provider(_settings(LINLI_PAYMENT_PROVIDER="wechat_pay_typo"))
    assert "'wechat_pay_typo' is not a payment provider" in unknown.value.message


@pytest.mark.parametrize("env", [{}, {"LINLI_ENV": "production", "LINLI_DEMO": "1"}, {"LINLI_ENV": "staging"}])
def test_the_stub_starts_outside_production_or_in_a_declared_demo(env):
    assert isinstance(bootstrap.payment_provider(_settings(**env)), bootstrap.StubProvider)


@pytest.mark.parametrize("process", [["-m", "services.orders.worker"],
                                     ["-c", "from services.orders.app import create_app; create_app()"],
                                     ["-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", "127.0.0.1:0",
                                      "services.orders.app:create_app()"]])
def test_the_orders_processes_exit_with_a_clear_line_before_touching_anything(process, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_ENV": "production", "LINLI_VAR_DIR": str(tmp_path), "MONGO_URL": "mongodb://127.0.0.1:9/",
                "AMQP_URL": "amqp://nobody:nothing@127.0.0.1:9/"})
    done = subprocess.run([sys.executable, *process], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 78, done.stderr[-2000:]
    assert "orders will not start: the stub payment provider takes no money and may not run in production" \
        in done.stderr
    assert not (tmp_path / "keys").exists(), "it stopped before making keys or opening the database"


@pytest.fixture
def client(linli_env):
    return create_app().test_client()


def _cashier(client, who=kit.RESIDENT) -> tuple[dict, str, str]:
    order = kit.placed_and_reserved(who=who)
    answer = client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(who))
    assert answer.status_code == 200, answer.get_json()
    payment = answer.get_json()
    path = payment["cashier_url"].split("://", 1)[1].split("/", 1)[1]
    return order, "/" + path, "/" + path.split("/enter/")[0]


def _state(ref: str) -> str:
    return paystub_store.payment(ref)["state"]


def test_only_the_payer_uses_the_cashier_and_anyone_else_holding_the_link_is_refused(client):
    order, link, cashier = _cashier(client)
    ref = cashier.rsplit("/", 1)[1]
    stranger = create_app().test_client()  # another browser
    for method, path in (("get", cashier), ("post", cashier + "/pay"), ("post", cashier + "/decline")):
        for headers in ({}, kit.token(NEIGHBOUR), {"Authorization": "Bearer forged"}):
            refused = getattr(stranger, method)(path, headers=headers)
            assert refused.status_code == 403, (method, path, headers)
            assert "只有为这个订单付款的人" in refused.get_data(as_text=True)
    as_json = stranger.post(cashier + "/pay", headers={**kit.token(NEIGHBOUR), "Accept": "application/json"})
    assert as_json.get_json()["error"]["code"] == "not_the_payer"
    assert _state(ref) == "NOTPAY", "nothing changed"

    # the payer's browser opens the link: the ticket opens a cashier session there, and is spent
    browser = create_app().test_client()
    entered = browser.get(link)
    assert entered.status_code == 303 and entered.headers["Location"].endswith(cashier)
    cookie = entered.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and f"Path={cashier}" in cookie
    assert stranger.get(link).status_code == 403, "a spent link opens nothing for anyone else"
    page = browser.get(cashier)
    assert page.status_code == 200 and "确认支付" in page.get_data(as_text=True)
    # the session is for this payment only
    _, _, other_cashier = _cashier(client, who=NEIGHBOUR)
    assert browser.get(other_cashier).status_code == 403
    assert browser.post(cashier + "/pay").status_code == 200
    assert _state(ref) == "SUCCESS"
    kit.deliver_notifications(client)
    assert store.database().orders.find_one({"_id": order["_id"]})["status"] == "paid"


def test_the_payer_may_also_pay_with_their_own_token_and_the_elder_or_family_who_ordered_may_both_pay(client):
    _, _, cashier = _cashier(client)
    assert client.post(cashier + "/pay", headers={**kit.token(kit.RESIDENT), "Accept": "application/json"}) \
        .get_json()["state"] == "SUCCESS"
    from linli.auth import Relative

    daughter = Principal(id="acc_daughter", role="resident", name="Chen Jing",
                         family=(Relative(kit.ELDER.id, kit.ELDER.name, kit.ELDER.tags),))
    order = kit.placed_and_reserved(who=daughter, for_elder=kit.ELDER.id)
    for who in (daughter, kit.ELDER):  # each opens the cashier for themselves; the neighbour cannot
        assert client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(who)).status_code == 200
    assert client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(NEIGHBOUR)).status_code == 404
    ref = paystub_store.database().payments.find_one({"out_trade_no": f"{order['_id']}-p1"})
    assert sorted(ref["payers"]) == sorted([daughter.id, kit.ELDER.id])
    assert client.get(f"/api/v1/payments/stub/{ref['_id']}", headers=kit.token(NEIGHBOUR)).status_code == 403
    assert client.get(f"/api/v1/payments/stub/{ref['_id']}", headers=kit.token(daughter)).status_code == 200
