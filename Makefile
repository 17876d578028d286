# Two commands on a fresh machine: `make run` serves the platform, `make test` checks it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests need: a browser, PDF tools, WeasyPrint's libraries, libmagic,
# ClamAV: clamav-daemon ships clamd, clamav ships sigtool (the tests start their own
# clamd on a locally made signature database; no freshclam download is needed), and gettext
# (the test that the French catalog is up to date runs makemessages and compilemessages),
# and nginx-light: the tests and the bench serve the platform through deploy/nginx/;
# nodejs runs the tests' OpenID provider (Node's oidc-provider, installed by node-deps).
DEBIAN_PACKAGES := chromium poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 \
	libharfbuzz-subset0 libmagic1 clamav-daemon clamav gettext nginx-light nodejs
# `make run PORT=8001` serves on another port; links in e-mails, PDFs and QR codes follow
# (SITE_URL), unless SITE_URL is given too.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
# The demo publishes its open data under a clearly fictional SIRET of the authority.
AUTHORITY_SIRET ?= 00000000000000
# The embedded default: SQLite and a file-system Celery transport under var/.
RUN_ENV := DEBUG=true SITE_URL=$(SITE_URL) AUTHORITY_SIRET=$(AUTHORITY_SIRET)
TEST_ENV := DJANGO_SETTINGS_MODULE=tests.settings

.PHONY: help run run-deps demo-reset test lint fmt bench vendor lock messages system-deps node-deps services clean

help:
	@echo "make run    - install, migrate, load the demo data and serve http://127.0.0.1:8000"
	@echo "              (make run PORT=8001 to serve on another port)"
	@echo "make demo-reset - delete the local demo database and files, then make run"
	@echo "make test   - install what the tests need, then ruff, migrations check and pytest"
	@echo "make bench  - run the benchmarks of bench/ and print their figures"
	@echo "make fmt    - format the code with ruff"
	@echo "make lock   - recompute requirements/*.txt from pyproject.toml"
	@echo "make vendor - refresh static/vendor from the npm registry (package.json)"
	@echo "make messages - recollect the strings and recompile the French catalog (plurals)"

$(STAMP): requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null || { \
		echo "Python 3.11 ou plus récent est nécessaire : « make run PYTHON=python3.11 »"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "Le module venv de Python manque (Debian/Ubuntu : paquet python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $(STAMP)

# Running needs Python and the libraries WeasyPrint and libmagic load, nothing the tests
# alone use: checked by loading them; a missing one is named with its install command.
run: $(STAMP) run-deps
	mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py load_demo
	@echo ""
	@echo "  Plateforme : http://127.0.0.1:$(PORT)  (Ctrl-C arrête le serveur, le worker et beat)"
	@echo "  Liens des courriels : $(SITE_URL)"
	@echo ""
	$(RUN_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

run-deps: $(STAMP)
	@$(BIN)/python -m config.runtime_deps

# The demonstration rebuilt from nothing: the local SQLite database, its uploaded files
# and its Celery queue are deleted (never a DATABASE_URL's database), then `make run`.
demo-reset:
	rm -rf var/db.sqlite3 var/db.sqlite3-wal var/db.sqlite3-shm var/private var/celery
	$(MAKE) run

test: $(STAMP) system-deps node-deps services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) system-deps services
	$(BIN)/python -m bench

# Installs the Debian packages that are missing (root, or sudo without a password).
system-deps:
	@missing=""; for pkg in $(DEBIAN_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
		|| { echo "Could not install:$$missing (run as root or install them by hand)"; exit 1; }; \
	fi

# The npm packages of package-lock.json (the tests' OpenID provider among them), installed
# again only when the lock file is newer than node_modules. Debian's nodejs may come
# without npm: Debian's npm package then.
node-deps: system-deps
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null \
		|| { echo "Could not install npm (run as root or install it by hand)"; exit 1; }; }
	@test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund

# PostgreSQL and Redis on 127.0.0.1: started if they are not answering.
services: $(STAMP)
	@$(BIN)/python -m tests.ensure_services

messages: $(STAMP)
	$(TEST_ENV) $(BIN)/python manage.py messages_fr

vendor:
	npm install --no-audit --no-fund
	mkdir -p static/vendor/bootstrap static/vendor/chartjs
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map \
	   node_modules/chart.js/LICENSE.md static/vendor/chartjs/
	mkdir -p static/vendor/htmx
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE static/vendor/htmx/

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements/prod.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
