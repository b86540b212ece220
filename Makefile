# SupportDesk: `make run` (demo on http://127.0.0.1:$(PORT)) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run setup install install-dev test lint format services browser messages clean

# `@$(STEP) "What it does" command args…` says what a step does, runs it and says how long it
# took, so that no step of a first run sits silent.
STEP = sh -c 'printf "\n==> %s\n" "$$1"; shift; started=$$(date +%s); "$$@" || exit; \
	echo "    done in $$(( $$(date +%s) - started )) s"' step

$(BIN)/.installed: requirements.txt
	@$(STEP) "Creating the virtualenv $(VENV)" $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@$(STEP) "Installing the Python packages (about 40 s on 2 cores, plus the download)" \
		$(BIN)/pip install -r requirements.txt
	@touch $@

# The test and lint tools, on top of what an installation runs.
$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

install-dev: $(BIN)/.installed-dev

# Database, demo company and trained models; every step is safe to repeat.
setup: install
	@$(STEP) "Migrating the databases (manage.py migrate_all)" $(BIN)/python manage.py migrate_all
	@$(STEP) "Loading the demo company (manage.py load_demo)" $(BIN)/python manage.py load_demo
	@$(STEP) "Installing the trained models (manage.py train_models --if-missing)" \
		$(BIN)/python manage.py train_models --if-missing

# Web server (daphne) and background worker together; Ctrl-C stops both.
run: setup
	@printf "\n==> Serving the demo (manage.py serve --port $(PORT))\n"
	@$(BIN)/python manage.py serve --port $(PORT)

# Start the machine services the test suite uses (PostgreSQL, Redis) if they are not running;
# install Dovecot, which the IMAP polling tests start themselves on loopback, and nginx, which the
# production-recipe test (tests/scale/test_production_recipe.py) starts in front of the desk.
services:
	@command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot || (apt-get update -qq && apt-get install -y -qq dovecot-imapd)
	@command -v msgfmt >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq gettext)
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx)
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "PostgreSQL or Redis did not start" >&2; exit 1

# Debian's Chromium for the browser tests (Playwright's own download cannot be used).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

# Unit tests run on PostgreSQL (the production database; pytest-django creates and drops
# test_supportdesk) with the real Redis as channel layer (db 14) and tasks inline. The browser
# tests start embedded installations (SQLite, django-q2) and the scale tests PostgreSQL + Redis +
# Celery, each with their own settings.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/supportdesk
test: install-dev services browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/14 CHANNELS_PREFIX=sdtest \
		TASK_BACKEND=sync VAR_DIR=var/test $(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After changing a page's or a message's words: collect them into locale/*/django.po, and once
# they are translated, compile the catalogs the desk ships (locale/*/django.mo).
MESSAGES_IGNORE := --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'docs/*'
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hant -l ja -l es --no-location $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages $(MESSAGES_IGNORE)

clean:
	rm -rf var staticfiles
