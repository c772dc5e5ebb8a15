"""The one place that reads the environment.

Defaults make `make run` work on one machine; every process of every service builds its
Settings from here, so a namespace or a port means the same thing everywhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The time zone a community, and what is scheduled in it, is in when nobody said otherwise.
DEFAULT_TIMEZONE = "Asia/Shanghai"

SERVICE_PORTS = {"gateway": 8000, "catalog": 8001, "orders": 8002, "delivery": 8003, "notify": 8004, "web": 8005}


def _float_list(raw: str) -> tuple[float, ...]:
    return tuple(float(x) for x in raw.split(",") if x.strip())


def tile_template(raw: str) -> str:
    """An http(s) URL with {z}, {x} and {y} in it, else refused at start (a typo must not draw an empty map)."""
    raw = raw.strip()
    if not raw:
        return ""
    if not raw.startswith(("http://", "https://")) or not all(k in raw for k in ("{z}", "{x}", "{y}")):
        raise ValueError(f"LINLI_MAP_TILES_URL must be an http(s) URL with {{z}}, {{x}} and {{y}} in it, not {raw!r}")
    return raw


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (what a Content-Security-Policy names)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else ""


@dataclass(frozen=True)
class Settings:
    namespace: str
    mongo_url: str
    amqp_url: str
    var_dir: Path
    ports: dict[str, int]
    service_urls: dict[str, str]
    public_url: str
    upstream_timeout: float
    retry_delays: tuple[float, ...]
    relay_poll_seconds: float
    relay_lease_seconds: float
    prefetch: int
    time_scale: float
    offer_timeout_seconds: float
    payment_auto: bool
    payment_mchid: str
    jwt_private_key_file: Path
    jwt_public_key_file: Path
    payment_apiv3_key: str | None
    signup_limit: str = "10 per hour"
    cors_origins: tuple[str, ...] = ()
    access_token_minutes: int = 15
    trusted_proxies: int = 0
    # fair holds (orders): unpaid orders one person may hold for one listing, date and slot, and in all
    holds_per_slot: int = 1
    holds_overall: int = 3
    # which payment provider orders talks to; a production configuration refuses the stub unless it is a demo
    payment_provider: str = "stub"
    environment: str = "development"
    demo: bool = False
    # the committee's dispatch map: an XYZ tile template (https://tiles.example/{z}/{x}/{y}.png); empty: drawn from
    # the coordinates alone and nothing outside Linli is asked for (the pages' offline rule)
    map_tiles_url: str = ""

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("LINLI_VAR_DIR", ROOT / "var"))
        ports = {
            name: int(env.get(f"LINLI_{name.upper()}_PORT", default))
            for name, default in SERVICE_PORTS.items()
        }
        urls = {
            name: env.get(f"LINLI_{name.upper()}_URL", f"http://127.0.0.1:{ports[name]}")
            for name in SERVICE_PORTS
        }
        return cls(
            namespace=env.get("LINLI_NAMESPACE", "linli"),
            mongo_url=env.get("MONGO_URL", ""),
            amqp_url=env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            var_dir=var_dir,
            ports=ports,
            service_urls=urls,
            public_url=env.get("LINLI_PUBLIC_URL", urls["gateway"]),
            upstream_timeout=float(env.get("LINLI_UPSTREAM_TIMEOUT", "10")),
            retry_delays=_float_list(env.get("LINLI_RETRY_DELAYS", "1,5,30,120")),
            relay_poll_seconds=float(env.get("LINLI_RELAY_POLL_SECONDS", "0.2")),
            relay_lease_seconds=float(env.get("LINLI_RELAY_LEASE_SECONDS", "30")),
            prefetch=int(env.get("LINLI_PREFETCH", "50")),
            time_scale=float(env.get("LINLI_TIME_SCALE", "1")),
            offer_timeout_seconds=float(env.get("LINLI_OFFER_TIMEOUT_SECONDS", "90")),
            payment_auto=env.get("LINLI_PAYMENT_AUTO", "0") == "1",
            payment_mchid=env.get("LINLI_PAYMENT_MCHID", "1900000109"),
            jwt_private_key_file=Path(env.get("LINLI_JWT_PRIVATE_KEY_FILE", var_dir / "keys" / "jwt_private.pem")),
            jwt_public_key_file=Path(env.get("LINLI_JWT_PUBLIC_KEY_FILE", var_dir / "keys" / "jwt_public.pem")),
            payment_apiv3_key=env.get("LINLI_PAYMENT_APIV3_KEY"),
            # every local sign-up comes from 127.0.0.1 (demo, tests, benchmarks): the local stack raises it
            signup_limit=env.get("LINLI_SIGNUP_LIMIT", "10 per hour"),
            cors_origins=tuple(o.strip() for o in env.get("LINLI_CORS_ORIGINS", "").split(",") if o.strip()),
            # how many proxies in front of the gateway add X-Forwarded-For; 0 trusts none (a client could forge it)
            trusted_proxies=int(env.get("LINLI_TRUSTED_PROXIES", "0")),
            holds_per_slot=int(env.get("LINLI_HOLDS_PER_SLOT", "1")),
            holds_overall=int(env.get("LINLI_HOLDS_OVERALL", "3")),
            payment_provider=env.get("LINLI_PAYMENT_PROVIDER", "stub"),
            environment=env.get("LINLI_ENV", "development"),
            demo=env.get("LINLI_DEMO", "0") == "1",
            map_tiles_url=tile_template(env.get("LINLI_MAP_TILES_URL", "")),
        )

    def db_name(self, service: str) -> str:
        return f"{self.namespace}_{service}"

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    def queue_name(self, consumer: str) -> str:
        return f"{self.namespace}.{consumer}"


_settings: Settings | None = None


def settings() -> Settings:
    """Settings of this process, read once."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    global _settings
    _settings = None
