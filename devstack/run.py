"""`make run`: the broker, the embedded database (unless MONGO_URL is set), every process
under supervisord (which restarts any that dies), demo data once; then it prints where to go. Ctrl-C stops it all; data stays in var/."""
from __future__ import annotations

import os
import signal
import sys
import time

from linli.config import ROOT, Settings, reset_settings

from .mongo import EmbeddedMongo
from .net import port_open
from .rabbit import BrokerUnavailable, ensure_broker
from .stack import Stack


def _say(message: str) -> None:
    print(message, flush=True)


def main() -> int:
    started = time.monotonic()
    cfg = Settings.from_env()
    busy = [f"{name} ({port})" for name, port in cfg.ports.items() if port_open("127.0.0.1", port)]
    if busy:
        _say(f"[linli] These ports are in use already: {', '.join(busy)}. Stop what uses them, or set "
             f"LINLI_GATEWAY_PORT / LINLI_CATALOG_PORT / LINLI_ORDERS_PORT / LINLI_DELIVERY_PORT / LINLI_NOTIFY_PORT / LINLI_WEB_PORT.")
        return 1
    try:
        amqp_url = ensure_broker()
    except BrokerUnavailable as error:
        _say(f"[linli] {error}")
        return 1
    mongo = None
    mongo_url = os.environ.get("MONGO_URL")
    if not mongo_url:
        # people's demo data: an acknowledged write survives the server being killed (devstack/mongo.py)
        mongo = EmbeddedMongo(cfg.var_dir / "mongo", log_file=cfg.var_dir / "log" / "mongo.log", sync_on_commit=True)
        mongo_url = mongo.start()
    stack = Stack(namespace=cfg.namespace, mongo_url=mongo_url, amqp_url=amqp_url, var_dir=cfg.var_dir,
                  ports=cfg.ports)
    stopping = False

    def stop(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        _say("\n[linli] stopping every process...")
        stack.stop()
        if mongo is not None:
            mongo.stop()
        _say("[linli] stopped. Your data stays in var/; `make run` again picks it up.")

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        stack.start()
        stack.wait_ready()
        # this process reads and writes the gateway's accounts for the seed, like the admin command
        os.environ.update({k: stack.env[k] for k in ("MONGO_URL", "AMQP_URL", "LINLI_NAMESPACE", "LINLI_VAR_DIR")})
        reset_settings()
        from . import seed

        seeded_now = False
        if not seed.already_seeded():
            seed.seed(stack.url())
            seeded_now = True
        _banner(stack, time.monotonic() - started, seeded_now)
        while stack.process.poll() is None:
            time.sleep(0.5)
        _say(f"[linli] the supervisor stopped; see {stack.log_file}")
        return 1
    except KeyboardInterrupt:
        return 0
    except Exception as error:
        _say(f"[linli] could not start: {error}")
        return 1
    finally:
        stop()


def _banner(stack: Stack, seconds: float, seeded_now: bool) -> None:
    from .seed import ACCOUNTS, PAGES_BY_ROLE, PASSWORD

    gw = stack.url()
    lines = [
        "",
        f"邻里 Linli is running (ready in {seconds:.1f} s){' with fresh demo data' if seeded_now else ''}.",
        "",
        f"  Open the pages at   {gw}/   (phone-sized; zh-CN first, English at the foot of each page)",
        f"  API documentation   {gw}/docs",
        f"  OpenAPI             {gw}/openapi.json",
        f"  Services (direct)   catalog {stack.url('catalog')}  orders {stack.url('orders')}  "
        f"delivery {stack.url('delivery')}  notify {stack.url('notify')}  pages {stack.url('web')}",
        f"  Logs                {stack.log_file.relative_to(ROOT) if stack.log_file.is_relative_to(ROOT) else stack.log_file}",
        "",
        f"Demo accounts (password for each: {PASSWORD}):",
    ]
    lines += [f"  {username:<12} {role:<12} {name} — {what}" for username, name, role, what in ACCOUNTS]
    lines += ["", "Sign in to the pages as: " + ", ".join(f"{role} {user}" for role, user in PAGES_BY_ROLE)
              + " (wang: elder mode)."]
    lines += ["", "The README walks one charity-lunch order end to end with curl. Ctrl-C stops everything.", ""]
    _say("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
