# Development tasks. `make` (or `make help`) lists them.
#
# DATABASE_URL picks the database for `test`, `sandbox` and `bench`:
#   unset or empty                                SQLite
#   postgres://postgres@127.0.0.1:5432/accounts   PostgreSQL (installs the psycopg driver)
#   mysql://root@127.0.0.1:3306/accounts          MariaDB/MySQL (builds mysqlclient, which needs
#                                                 the MariaDB client headers and pkg-config)

PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=
BENCH_ARGS ?=
# Languages the app ships catalogues for (accounts/locale/<language>/LC_MESSAGES/django.po).
LOCALES ?= de fr
DATABASE_URL ?=
export DATABASE_URL

BIN := $(VENV)/bin
comma := ,
LINT_PATHS := $(wildcard accounts tests sandbox bench scripts docs/conf.py setup.py)

# The database driver extra follows DATABASE_URL's scheme. The browser extra (Playwright's Python
# package) is always there: the browser tests run in every `make test`, with Debian's chromium.
DB_EXTRA := $(if $(filter postgres%,$(DATABASE_URL)),postgres,$(if $(filter mysql%,$(DATABASE_URL)),mysql))
EXTRAS := test$(comma)browser$(if $(DB_EXTRA),$(comma)$(DB_EXTRA))

# The sandbox needs only the demo's own extra and the database driver, not the test tools.
SANDBOX_EXTRAS := sandbox$(if $(DB_EXTRA),$(comma)$(DB_EXTRA))

# One stamp per set of extras: repeated runs skip pip, a changed setup.py re-installs.
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
SANDBOX_STAMP := $(VENV)/.installed-$(subst $(comma),-,$(SANDBOX_EXTRAS))
PACKAGING := setup.py pyproject.toml

.DEFAULT_GOAL := help
.PHONY: help venv install test sandbox lint mypy migrations-check messages messages-check docs \
	bench clean

help: ## List the targets
	@echo "Usage: make TARGET [DATABASE_URL=...] [PYTEST_ARGS=...]"
	@echo
	@awk 'BEGIN { FS = ":[^#]*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "DATABASE_URL: unset = SQLite; postgres://postgres@127.0.0.1:5432/accounts;"
	@echo "              mysql://root@127.0.0.1:3306/accounts"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(STAMP): $(PACKAGING) | $(BIN)/python
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	@touch $@

$(SANDBOX_STAMP): $(PACKAGING) | $(BIN)/python
	$(BIN)/python -m pip install -e ".[$(SANDBOX_EXTRAS)]"
	@touch $@

$(VENV)/.installed-lint: $(PACKAGING) | $(STAMP)
	$(BIN)/python -m pip install -e ".[lint]"
	@touch $@

$(VENV)/.installed-docs: $(PACKAGING) | $(BIN)/python
	$(BIN)/python -m pip install -e ".[docs]"
	@touch $@

venv: install ## Same as install

install: $(STAMP) ## Create the virtualenv if missing; install the package with test, browser and DB extras

test: $(STAMP) ## Run the test suite on the database DATABASE_URL names (SQLite when unset)
	$(BIN)/pytest $(PYTEST_ARGS)

sandbox: $(SANDBOX_STAMP) ## Migrate the demo site, load demo data (once) and serve it on 127.0.0.1:8000
	$(BIN)/python sandbox/manage.py migrate --noinput
	$(BIN)/python sandbox/manage.py load_demo_data
	$(BIN)/python sandbox/manage.py runserver 127.0.0.1:8000

lint: $(VENV)/.installed-lint ## Check style and formatting with ruff
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

mypy: $(VENV)/.installed-lint ## Type-check the accounts package (django-stubs, tests.settings)
	$(BIN)/mypy accounts

migrations-check: $(STAMP) ## Fail if the models have changes that no migration records
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. $(BIN)/django-admin makemigrations --check --dry-run

# makemessages and compilemessages need no project: they run in accounts/ on its own files.
messages: $(STAMP) ## Update the de and fr catalogues (LOCALES) from the code; compile them (GNU gettext)
	mkdir -p accounts/locale
	cd accounts && DJANGO_SETTINGS_MODULE= $(abspath $(BIN))/django-admin makemessages \
		--no-obsolete $(addprefix --locale ,$(LOCALES))
	cd accounts && DJANGO_SETTINGS_MODULE= $(abspath $(BIN))/django-admin compilemessages \
		$(addprefix --locale ,$(LOCALES))

messages-check: $(STAMP) ## Fail if a string is missing, untranslated or fuzzy in a catalogue (GNU gettext)
	$(BIN)/python scripts/check_messages.py $(LOCALES)

docs: $(VENV)/.installed-docs ## Build the HTML docs into docs/_build/html, warnings as errors
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP) ## Benchmark the facade against raw SQL on DATABASE_URL (BENCH_ARGS=--quick)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove the virtualenv, caches and build output (keeps sandbox/db.sqlite3)
	rm -rf $(VENV) build dist *.egg-info docs/_build .tmp test-artifacts \
		.pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
