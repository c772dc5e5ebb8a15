"""A real browser on the pages: Debian's chromium driven by Playwright, phone-sized. Every page a test visits is
checked the same way (`Visit.check`): no console error, no failed request, an axe-core scan with no serious or
critical violation, no English text of the catalog on a zh-CN page and no Chinese text of the catalog on an English
page, and in elder mode the sizes measured in the browser. A screenshot of each goes to var/screenshots/. The steps
every journey takes (signing in) are here too, in the visit's language."""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

from babel.messages.pofile import read_po

from linli.config import ROOT

AXE = ROOT / "tests" / "browser" / "vendor" / "axe.min.js"
SHOTS = ROOT / "var" / "screenshots"
CATALOG = ROOT / "web" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def english_fragments() -> list[str]:
    """The catalog's English texts, cut at their placeholders: any of them on a zh-CN page is untranslated."""
    with open(CATALOG, "rb") as f:
        catalog = read_po(f)
    pieces = set()
    for message in catalog:
        if message.id and isinstance(message.id, str):
            pieces.update(p.strip(" .,:;()\"'") for p in re.split(r"%\(\w+\)s|%%", message.id))
    # short words ("lunch", "full") can be part of what people wrote; sentences cannot
    return sorted(p for p in pieces if len(p) >= 8 and " " in p)


CJK = re.compile(r"[\u3400-\u9fff]")


def chinese_fragments() -> list[str]:
    """The catalog's Chinese texts, cut at their placeholders: any of them on an English page leaked from the zh-CN
    catalog (or a template's own Chinese). Three Chinese characters and more: names people gave (a community's, a
    kitchen's) may hold a two-character word of ours."""
    with open(CATALOG, "rb") as f:
        catalog = read_po(f)
    pieces = set()
    for message in catalog:
        if message.id and isinstance(message.string, str):
            pieces.update(p.strip(" .,:;()\"'，。：；（）！？、") for p in re.split(r"%\(\w+\)s|%%", message.string))
    found = sorted(p for p in pieces if len(CJK.findall(p)) >= 3)
    assert len(found) > 100, "the zh-CN catalog is there to check against"
    return found


WORDS = {"zh-CN": {"username": "用户名或手机号", "password": "密码", "sign in": "登录"},
         "en": {"username": "Username or phone number", "password": "Password", "sign in": "Sign in"}}


def sign_in(visit: "Visit", username: str, password: str) -> None:
    """Signs in on /signin, in the language the page is in for this visit."""
    words = WORDS[visit.lang]
    page = visit.page
    page.goto("/signin")
    page.get_by_label(words["username"]).fill(username)
    page.get_by_label(words["password"], exact=True).fill(password)
    page.get_by_role("button", name=words["sign in"], exact=True).click()


def launch(playwright):
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS, headless=True)


@dataclass
class Visit:
    """One person's browser tab, with the problems seen since the last check."""
    page: object
    lang: str = "zh-CN"
    problems: list[str] = field(default_factory=list)
    shots: int = 0
    checked: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser, base_url: str, lang: str = "zh-CN") -> "Visit":
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale=lang, base_url=base_url, bypass_csp=False,
                                      extra_http_headers={"Accept-Language": lang})
        page = context.new_page()
        visit = cls(page, lang)
        page.on("console", lambda m: m.type == "error" and visit.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: visit.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: visit.problems.append(f"failed request: {r.method} {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and visit.problems.append(f"HTTP {r.status}: {r.url}"))
        return visit

    def check(self, name: str, *, elder: bool | None = None) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.shots += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{self.lang}-{self.shots:02d}-{name}.png"), full_page=True,
                        scale="css")  # 390 px wide: small enough for the README (make screenshots)
        assert not self.problems, f"{name}: {self.problems}"
        # axe-core runs in the page's own world; the pages' CSP forbids inline scripts, so it comes in by evaluate
        page.evaluate(AXE.read_text())
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
        }""")
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: accessibility violations {serious}"
        text = page.inner_text("body")
        if self.lang == "zh-CN":
            assert page.get_attribute("html", "lang") == "zh-CN"
            left = [f for f in english_fragments() if f in text]
            assert not left, f"{name}: untranslated on a zh-CN page: {left}"
        elif self.lang == "en":
            assert page.get_attribute("html", "lang") == "en", f"{name}: the page is not in English"
            left = [f for f in chinese_fragments() if f in text]
            assert not left, f"{name}: Chinese of the catalog on an English page: {left}"
        is_elder = "elder" in (page.get_attribute("html", "class") or "")
        if elder is not None:
            assert is_elder == elder, f"{name}: elder mode is {'on' if is_elder else 'off'}"
        self._sizes(name, is_elder)
        self.checked.append(name)

    def _sizes(self, name: str, elder: bool) -> None:
        """Body text >= 18 px (elder mode: larger, and some text >= 30 px), line spacing >= 1.3, and in elder
        mode every main touch target at least 60 x 60 px: measured in the browser."""
        m = self.page.evaluate("""() => {
            const px = v => parseFloat(v);
            const body = getComputedStyle(document.body);
            const texts = [...document.querySelectorAll('main p, main li, main label, main h1, main h2, main button, main a')]
                .filter(e => e.offsetParent !== null && e.innerText.trim());
            const sizes = texts.map(e => px(getComputedStyle(e).fontSize));
            const lines = [...document.querySelectorAll('main p, main li')].filter(e => e.offsetParent !== null)
                .map(e => { const s = getComputedStyle(e); return px(s.lineHeight) / px(s.fontSize); });
            const targets = [...document.querySelectorAll('button, a.button, nav a, a.call, input:not([type=hidden]):not([type=radio]), select, label.choice')]
                .filter(e => e.offsetParent !== null)
                .map(e => { const r = e.getBoundingClientRect(); return {what: e.outerHTML.slice(0, 80), w: r.width, h: r.height}; });
            return {body: px(body.fontSize), smallest: Math.min(...sizes), largest: Math.max(...sizes),
                    tightest: Math.min(...lines, 9), targets};
        }""")
        assert m["body"] >= 18 and m["smallest"] >= 18, f"{name}: text too small {m['body']}/{m['smallest']} px"
        assert m["tightest"] >= 1.3, f"{name}: line spacing {m['tightest']:.2f}"
        if elder:
            assert m["body"] > 18 and m["smallest"] >= 18, f"{name}: elder text {m['body']}/{m['smallest']} px"
            assert m["largest"] >= 30, f"{name}: nothing at 30 px or more in elder mode ({m['largest']} px)"
            small = [t for t in m["targets"] if t["w"] < 60 or t["h"] < 60]
            assert not small, f"{name}: touch targets under 60 x 60 px in elder mode: {small[:3]}"
