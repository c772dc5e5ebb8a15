"""The pages (web/): every text a page or a route shows has its Chinese translation with the same placeholders,
and the rooms keep to their jobs: only the adapter speaks HTTP to the API, only the store touches MongoDB, no
page reads a service's database or imports a service."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PO = WEB / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog():
    with open(PO, "rb") as f:
        return read_po(f)


def test_every_text_of_the_pages_has_its_chinese_translation_with_the_same_placeholders():
    catalog = _catalog()
    used = {message for _, _, message, _, _ in extract_from_dir(str(WEB), METHODS, keywords={"_": None, "gettext": None, "_l": None})}
    assert used, "no texts found: the extraction is not looking at web/"
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"not translated into Chinese (add them to {PO.relative_to(ROOT)}): {missing}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy translations are not shown: {fuzzy}"
    wrong = [m.id for m in catalog if m.id and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))]
    assert not wrong, f"the translation names other placeholders than the text: {wrong}"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_adapter_calls_the_api_only_the_store_touches_mongo_and_no_page_imports_a_service():
    problems = []
    for path in WEB.rglob("*.py"):
        names = _imports(path)
        room = path.relative_to(WEB).parts[0]
        for name in names:
            top = name.split(".")[0]
            if top in ("services", "gateway"):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
            if top == "requests" and room != "adapters":
                problems.append(f"{path.relative_to(ROOT)} calls HTTP itself ({name})")
            if (top == "pymongo" or name == "linli.db") and path.name != "store.py":
                problems.append(f"{path.relative_to(ROOT)} touches the database ({name})")
    assert not problems, problems


def test_a_refused_hold_reads_in_chinese_and_english_with_the_limit_orders_applied():
    from flask import Flask
    from flask_babel import Babel, force_locale

    from web.adapters.gateway import ApiProblem
    from web.i18n import DEFAULT, problem_text

    app = Flask("pages")  # the pages' translations, as web.app configures them (without its database)
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT, BABEL_TRANSLATION_DIRECTORIES=str(WEB / "translations"))
    Babel(app)
    slot = ApiProblem(409, "hold_limit_slot", "…", {"limit": 1, "held": 1})
    overall = ApiProblem(409, "hold_limit_overall", "…", {"limit": 3, "held": 3})
    with app.test_request_context("/"):
        with force_locale("zh_Hans_CN"):
            assert problem_text(slot).startswith("这一餐您已有一个未付款的订单（同一餐最多同时保留 1 单）")
            assert problem_text(overall).startswith("您已有 3 个未付款的订单")
        with force_locale("en"):
            assert problem_text(overall).startswith("You already have 3 unpaid orders, the most one person may hold")
