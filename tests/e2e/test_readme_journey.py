"""The README's curl walkthrough, run verbatim against `make run`'s processes and demo data."""
from __future__ import annotations

import os
import re
import subprocess

from devstack.net import free_port
from devstack.stack import Stack
from linli.config import ROOT
from devstack.cleanup import remove_namespace
from tests.conftest import configured_as, new_namespace


def _journey() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- journey:start -->\s*```bash\n(.*?)```\s*<!-- journey:end -->", text, re.S)
    assert block, "README.md lost its journey block"
    return block.group(1)


def test_the_readme_journey_completes_on_the_demo_data(infra, tmp_path):
    namespace = new_namespace()
    stack = Stack(namespace=namespace, mongo_url=infra.mongo_url, amqp_url=infra.amqp_url, var_dir=tmp_path / "var",
                  ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery")},
                  extra_env={"LINLI_TIME_SCALE": "0.01", "LINLI_WEB_WORKERS": "1"})
    stack.start()
    try:
        stack.wait_ready()
        with configured_as(stack.env):
            from devstack import seed

            seed.seed(stack.url())
            assert seed.already_seeded()
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", _journey()], capture_output=True, text=True,
                             env={**os.environ, "GW": stack.url()}, timeout=120)
        assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        lines = run.stdout.strip().splitlines()
        assert [line.split()[1] for line in lines] == ["placed", "awaiting_payment", "paid", "accepted", "ready",
                                                        "delivering", "completed"]
    finally:
        stack.stop()
        remove_namespace(infra.mongo_url, infra.amqp_url, namespace, stack.env)
