"""What the browser tests need, for `make test`: Debian's chromium and CJK fonts (installed as root or with
sudo when missing, like devstack/rabbit.py installs RabbitMQ), and pinned copies of axe-core and htmx from
the npm registry (fetched once into tests/browser/vendor and web/static/vendor, checked by sha512)."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from .rabbit import _privileged_prefix, _say

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chromium", "fonts-noto-cjk")
# (npm package, version, file inside the tarball, where it goes, the registry's sha512 integrity of the tarball)
VENDORED = (
    ("axe-core", "4.10.2", "package/axe.min.js", ROOT / "tests" / "browser" / "vendor" / "axe.min.js", None),
    ("htmx.org", "2.0.4", "package/dist/htmx.min.js", ROOT / "web" / "static" / "vendor" / "htmx.min.js", None),
)


class BrowserUnavailable(RuntimeError):
    pass


def _fonts_installed() -> bool:
    return Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists()


def ensure_chromium() -> str:
    if shutil.which("chromium") and _fonts_installed():
        return shutil.which("chromium")
    prefix = _privileged_prefix()
    if prefix is None:
        raise BrowserUnavailable("The browser tests need chromium and fonts-noto-cjk: install them with "
                                 "`sudo apt-get install chromium fonts-noto-cjk` and run this again.")
    _say("installing chromium and fonts-noto-cjk from Debian's packages (once)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    return shutil.which("chromium")


def ensure_vendored() -> None:
    for package, version, member, target, _ in VENDORED:
        if target.exists():
            continue
        name = package.split("/")[-1]
        url = f"https://registry.npmjs.org/{package}/-/{name}-{version}.tgz"
        _say(f"fetching {package}@{version} from the npm registry (once)...")
        with urllib.request.urlopen(f"https://registry.npmjs.org/{package}/{version}", timeout=30) as meta:
            import json

            integrity = json.load(meta)["dist"]["integrity"]
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
        algo, _, expected = integrity.partition("-")
        if base64.b64encode(hashlib.new(algo, data).digest()).decode() != expected:
            raise BrowserUnavailable(f"{package}@{version} from the registry does not match its integrity")
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            content = tar.extractfile(member).read()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


if __name__ == "__main__":
    try:
        ensure_vendored()
        print(ensure_chromium())
    except BrowserUnavailable as error:
        _say(str(error))
        sys.exit(1)
