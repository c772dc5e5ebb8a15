# The two commands: `make run` and `make test`. Each sets up what it needs on a fresh
# Debian machine with Python 3.11: the virtualenv, RabbitMQ (from Debian's packages when
# missing) and the embedded MongoDB-wire server (unless MONGO_URL is set).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv broker browser catalogs pot screenshots bench clean fault

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# the pages' translations: the .po files are the source, compiled here (the .mo files are not committed)
MO := web/translations/zh_Hans_CN/LC_MESSAGES/messages.mo
$(MO): web/translations/zh_Hans_CN/LC_MESSAGES/messages.po $(STAMP)
	@$(VENV)/bin/pybabel compile --statistics -d web/translations -D messages 2>&1 | grep -v "^compiling" || true

catalogs: $(MO)

# the translation template, extracted from web/ with its babel config (web/babel.cfg: its .py files and templates), as
# Babel is meant to be used; a new text then gets its Chinese in the .po (tests/unit/test_pages_rooms_and_catalog.py
# fails until it has). `pybabel update` would merge the template into the .po too, but rewrites the whole file.
pot: $(STAMP)
	@cd web && ../$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project=Linli --no-wrap \
		-o translations/messages.pot . 2>&1 | grep -v "^extracting" || true

# the browser tests: Debian's chromium and CJK fonts (installed when missing, like RabbitMQ)
browser: $(STAMP)
	@$(PY) -m devstack.browser >/dev/null

broker: $(STAMP)
	@$(PY) -m devstack.rabbit >/dev/null

run: $(STAMP) broker catalogs
	@$(PY) -m devstack.run

test: $(STAMP) broker catalogs browser
	@$(PY) -m pytest -q

# the README's pictures of each role's main page, copied from what the browser tests saw (run `make test` first:
# tests/e2e/browser.py keeps a 390 px wide screenshot of every page a test checks in var/screenshots/). Not the
# admin's: on the shared test stack its page lists every test's communities, several metres of picture.
SHOTS := home-elder:resident-home v-offer:volunteer-offer p-board-new:provider-board c-board:coordinator-board
screenshots:
	@for pair in $(SHOTS); do shot=$$(ls var/screenshots/zh-CN-*-$${pair%%:*}.png | head -1); \
		test -n "$$shot" || { echo "no screenshot $${pair%%:*}: run make test first"; exit 1; }; \
		cp "$$shot" docs/screenshots/$${pair##*:}.png; done

bench: $(STAMP) broker
	@$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache

# the fault-injection suite (tests/faults): orders in flight while processes, a private broker and
# database are killed, paused and cut off; several minutes, so not part of `make test`
fault: $(STAMP) broker
	@$(PY) -m pytest -q -m fault tests/faults
