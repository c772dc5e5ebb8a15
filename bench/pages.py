"""The pages on the demo data: server render time p50/p95 per page (asked of web/ directly, as Auntie Wang in
elder mode, the canteen and Xiao Zhang, and the committee's and the admin's pages as the demo coordinator and admin;
each page 30 times one after another) and the bytes each page sends on a first load (HTML, CSS, JS;
no compression). Prints figures; asserts nothing. Aim (issue 14): p95 under 200 ms and under 150 KB.

`python -m bench.pages board "v:"` measures only the pages whose name holds one of the words given."""
from __future__ import annotations

import re
import statistics
import sys
import time

import requests

from bench.common import infrastructure, percentiles
from devstack import seed
from devstack.net import free_port
from devstack.stack import Stack
from linli.config import SERVICE_PORTS

ROUNDS = 30
TIMING = re.compile(r"(\w+);dur=([\d.]+)")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _signed_in(web: str, username: str) -> requests.Session:
    who = requests.Session()
    form = who.get(f"{web}/signin", timeout=10).text
    who.post(f"{web}/signin", data={"csrf_token": _csrf(form), "username": username, "password": seed.PASSWORD},
             timeout=10).raise_for_status()
    return who


def main() -> None:
    with infrastructure() as (mongo_url, amqp_url, namespace, scratch):
        stack = Stack(namespace=namespace, mongo_url=mongo_url, amqp_url=amqp_url, var_dir=scratch / "var",
                      ports={s: free_port() for s in SERVICE_PORTS})
        stack.start()
        try:
            stack.wait_ready()
            seed.seed(stack.url())
            web = stack.url("web")
            wang, canteen, zhang = (_signed_in(web, who) for who in ("wang", "canteen", "zhang"))
            home = wang.get(f"{web}/", timeout=10).text
            placed = wang.post(f"{web}/r/lunch", data={"csrf_token": _csrf(home)}, timeout=30)
            order = placed.url.rstrip("/").rsplit("/", 1)[1]
            lunch = re.search(r'href="/r/listings/([^"]+)"', wang.get(f"{web}/r/search?q=午餐", timeout=10).text).group(1)
            pages = {"home (elder)": "/", "search": "/r/search?q=午餐", "listing": f"/r/listings/{lunch}",
                     "order form": f"/r/listings/{lunch}/order", "my orders": "/r/orders", "order": f"/r/orders/{order}",
                     "order (htmx part)": f"/r/orders/{order}/live", "tracking": f"/r/orders/{order}/track",
                     "profile": "/me", "attention": "/attention", "sign in (nobody)": "/signin"}
            mine = re.search(r'href="/p/listings/([^"]+)/edit"', canteen.get(f"{web}/p/listings", timeout=10).text).group(1)
            by = {name: wang for name in pages}
            for name, path, who in (
                    ("v: offers and duty", "/v", zhang), ("v: live part (htmx)", "/v/live", zhang),
                    ("v: my hours", "/v/hours", zhang), ("p: board", "/p", canteen),
                    ("p: board live (htmx)", "/p/live", canteen), ("p: listings", "/p/listings", canteen),
                    ("p: listing form", f"/p/listings/{mine}/edit", canteen), ("p: reviews", "/p/reviews", canteen),
                    ("p: statement", "/p/statement", canteen), ("p: profile", "/p/profile", canteen)):
                pages[name], by[name] = path, who
            # the committee's and the admin's pages, as the demo coordinator (all communities) and admin
            staff = {}
            for username in ("coordinator", "admin"):
                who = staff[username] = requests.Session()
                form = who.get(f"{web}/signin", timeout=10).text
                who.post(f"{web}/signin", data={"csrf_token": _csrf(form), "username": username,
                                                  "password": seed.PASSWORD}, timeout=10).raise_for_status()
            elder = re.search(r'href="/c/residents/([^"]+)"',
                              staff["coordinator"].get(f"{web}/c/residents?q=王", timeout=10).text)
            committee = {"board (coordinator)": "/c/", "residents (coordinator)": "/c/residents?q=王",
                         "verification (coordinator)": "/c/verify", "this week (coordinator)": "/c/figures",
                         "downloads (coordinator)": "/c/downloads", "order (coordinator)": f"/c/orders/{order}",
                         "admin home": "/a/"}
            if elder:
                committee["resident (coordinator)"] = f"/c/residents/{elder.group(1)}"
            pages.update(committee)
            assets = {"site.css": len(requests.get(f"{web}/assets/site.css", timeout=10).content),
                      "htmx.min.js": len(requests.get(f"{web}/assets/vendor/htmx.min.js", timeout=10).content)}
            print("assets on a first load: " + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in assets.items()))
            # the volunteer's page loads its script; the board its script and its chime
            extra = {"/v": len(requests.get(f"{web}/assets/volunteer.js", timeout=10).content),
                     "/p": len(requests.get(f"{web}/assets/provider.js", timeout=10).content)
                     + len(requests.get(f"{web}/assets/chime.wav", timeout=10).content)}
            wanted = sys.argv[1:]
            for name, path in pages.items():
                if wanted and not any(w in name for w in wanted):
                    continue
                who = requests.Session() if "nobody" in name else staff["admin"] if name.startswith("admin") \
                    else staff["coordinator"] if "(coordinator)" in name else by.get(name, wang)
                samples, size, parts = [], 0, {}
                for _ in range(ROUNDS):
                    t0 = time.perf_counter()
                    response = who.get(f"{web}{path}", timeout=30)
                    samples.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    size = len(response.content)
                    for part, ms in TIMING.findall(response.headers.get("Server-Timing", "")):
                        parts.setdefault(part, []).append(float(ms))
                first_load = size + (0 if "htmx" in name else sum(assets.values()) + extra.get(path, 0))
                print(f"{name:<28} {percentiles(samples)}; HTML {size / 1024:.1f} KB, "
                      f"first load {first_load / 1024:.1f} KB")
                if parts:  # where the time went, as web's Server-Timing tells it (medians)
                    print(" " * 29 + "median " + ", ".join(f"{part} {statistics.median(ms):.1f}"
                                                           for part, ms in parts.items())
                          + " ms; the rest: the network and the session's save")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
