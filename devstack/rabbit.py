"""RabbitMQ for `make run` and `make test`: AMQP_URL when set; else a broker on 127.0.0.1:5672;
else install Debian's rabbitmq-server (as root or with sudo) and start it; else one clear sentence."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .net import port_open, wait_for_port

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


class BrokerUnavailable(RuntimeError):
    pass


def _privileged_prefix() -> list[str] | None:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def _say(message: str) -> None:
    print(f"[linli] {message}", file=sys.stderr, flush=True)


def ensure_broker() -> str:
    url = os.environ.get("AMQP_URL")
    if url:
        return url
    if port_open("127.0.0.1", 5672):
        return DEFAULT_URL
    prefix = _privileged_prefix()
    if shutil.which("rabbitmq-server") is None:
        if prefix is None:
            raise BrokerUnavailable(
                "RabbitMQ is not running and cannot be installed without root: install it with "
                "`sudo apt-get install rabbitmq-server` (or set AMQP_URL to a broker) and run this again.")
        _say("installing rabbitmq-server from Debian's packages (once)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "rabbitmq-server"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    if prefix is None:
        raise BrokerUnavailable(
            "RabbitMQ is installed but not running, and starting it needs root: run "
            "`sudo service rabbitmq-server start` (or set AMQP_URL) and run this again.")
    _say("starting rabbitmq-server...")
    if shutil.which("service"):
        subprocess.run(prefix + ["service", "rabbitmq-server", "start"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if not wait_for_port("127.0.0.1", 5672, 10):
        subprocess.run(prefix + ["rabbitmq-server", "-detached"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_for_port("127.0.0.1", 5672, 90):
        raise BrokerUnavailable("rabbitmq-server did not start listening on 127.0.0.1:5672 within 90 seconds; "
                                "see /var/log/rabbitmq for why.")
    return DEFAULT_URL


if __name__ == "__main__":
    try:
        print(ensure_broker())
    except BrokerUnavailable as error:
        _say(str(error))
        sys.exit(1)
