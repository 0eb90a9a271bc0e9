# PERÚ INFOMIGRA assistant. Two commands: `make run` (the assistant) and `make test` (every check).
# Two Python 3.10 environments (see README, "Architecture"):
#   .venv      Rasa 3.6.21 server and our channel connectors (Rasa's pinned libraries)
#   .venv-svc  action server, stores, desk, reports, CLI and tests (current libraries)

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON310 := $(shell scripts/python310.sh)
RASA := .venv/bin/rasa
# Rasa's CLI with our changes to Rasa applied for run/shell/test (bot/rasa/server.py, bot/rasa/startup.py).
RASA_PATCHED := .venv/bin/python -m bot.rasa.server
SVC := .venv-svc/bin
ENDPOINTS ?= endpoints.yml
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
DESK_PORT ?= 8010
REPLICAS ?= 2
ACTIONS ?= 1
CLUSTER_PORT ?= 8080
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TQDM_DISABLE := 1

.PHONY: help install browser mail-server nginx cluster run test lint validate audit train test-stories test-nlu test-understanding pytest actions clean

help:
	@echo "make run    install what is missing, train if the model is stale, start the assistant"
	@echo "make test   install what is missing, then every check: lint, data, dependency audit, stories, NLU, held-out conversations, pytest"
	@echo "make cluster  the assistant as REPLICAS=2 Rasa processes behind nginx on PostgreSQL and Redis (README, Scale-out)"

.venv/.installed: requirements/rasa.txt pyproject.toml
	test -x .venv/bin/python || $(PYTHON310) -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check -r requirements/rasa.txt
	.venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

.venv-svc/.installed: requirements/services.txt pyproject.toml
	test -x .venv-svc/bin/python || $(PYTHON310) -m venv .venv-svc
	.venv-svc/bin/pip install -q --disable-pip-version-check -r requirements/services.txt
	.venv-svc/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

install: .venv/.installed .venv-svc/.installed

# Browser tests drive Debian's Chromium through Playwright (no browser download); the Ventanilla's test
# reads the PDF Chromium prints with pdftotext (Debian's poppler-utils).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v pdftotext >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; }

# The e-mail door's tests read a real IMAP server: Debian's Dovecot, each test starting its own on a
# temporary mailbox (tests/mail_servers.py; the package's own service is not used).
mail-server:
	@command -v dovecot >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd; }

# nginx in front of the replicas (`make cluster`, tests/e2e/test_cluster.py): Debian's nginx-light, run with
# our own config (deploy/nginx.conf); the package's own service, which its installation starts, is stopped.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq nginx-light && { service nginx stop >/dev/null 2>&1 || true; }; }

train: install
	.venv/bin/python scripts/train_if_stale.py

# The action server alone (bot/action_server.py): on 127.0.0.1, and only for callers with ACTION_SERVER_SECRET,
# which Rasa must have too (endpoints.yml sends it); it does not start without one.
actions: install
	$(SVC)/python -m bot.action_server --actions actions --port $(ACTIONS_PORT)

run: train
	@mkdir -p var
	@$(SVC)/infomigra kb check
	@$(SVC)/infomigra db upgrade
	@new_secret() { $(SVC)/python -c 'import secrets; print(secrets.token_urlsafe(32))'; }; \
	  export RASA_JWT_SECRET="$${RASA_JWT_SECRET:-$$(new_secret)}" ACTION_SERVER_SECRET="$${ACTION_SERVER_SECRET:-$$(new_secret)}" \
	    REST_CHANNEL_TOKEN="$${REST_CHANNEL_TOKEN:-$$(new_secret)}" RASA_URL="$${RASA_URL:-http://localhost:$(RASA_PORT)}"; \
	  $(SVC)/python -m bot.action_server --actions actions --port $(ACTIONS_PORT) & actions_pid=$$!; \
	  $(SVC)/infomigra desk serve --port $(DESK_PORT) --log-level warning & desk_pid=$$!; \
	  trap 'kill $$actions_pid $$desk_pid 2>/dev/null' EXIT INT TERM; \
	  echo ""; \
	  echo "  Action server: http://localhost:$(ACTIONS_PORT)/health"; \
	  echo "  Rasa server:   http://localhost:$(RASA_PORT)  (ready when it logs 'Rasa server is up and running')"; \
	  echo "  Web widget:    http://localhost:$(RASA_PORT)/webhooks/web/demo"; \
	  echo "  Chat (REST):   curl -s localhost:$(RASA_PORT)/webhooks/rest/webhook -H 'Authorization: Bearer $$REST_CHANNEL_TOKEN' -d '{\"sender\":\"yo\",\"message\":\"hola\"}'"; \
	  echo "  Chat (terminal, in another shell): ACTION_SERVER_SECRET='$$ACTION_SERVER_SECRET' .venv/bin/python -m bot.rasa.server shell --port 5006"; \
	  echo "  Advisor desk:  http://localhost:$(DESK_PORT)  (accounts: .venv-svc/bin/infomigra desk create-user)"; \
	  echo ""; \
	  .venv/bin/python -m bot.rasa.server run --model models/infomigra.tar.gz --endpoints $(ENDPOINTS) \
	    --credentials credentials.yml --port $(RASA_PORT) --enable-api  # JWT secret from RASA_JWT_SECRET, never argv

# Several processes behind nginx on PostgreSQL and Redis (bot/cluster.py; README, "Scale-out").
cluster: train nginx
	@$(SVC)/infomigra kb check
	$(SVC)/python -m bot.cluster --replicas $(REPLICAS) --actions $(ACTIONS) --port $(CLUSTER_PORT)

lint: install
	$(SVC)/ruff check bot actions tests bench scripts

validate: install
	$(SVC)/infomigra kb check
	$(RASA) data validate --fail-on-warnings

# pip-audit on both lock files; "audit skipped: <reason>" (exit 0) when no vulnerability service is reachable,
# the stored findings and allow-list (security/) are then checked offline by tests/unit/test_dependency_audit.py.
audit: install
	$(SVC)/python scripts/audit.py

test-stories: train
	$(RASA_PATCHED) test core --model models/infomigra.tar.gz --stories tests/stories \
	  --fail-on-prediction-errors --out results/core --no-plot

test-nlu: train
	$(RASA_PATCHED) test nlu --model models/infomigra.tar.gz --nlu tests/nlu --out results/nlu --no-plot
	.venv/bin/python scripts/check_nlu.py results/nlu

# Held-out conversations through the real servers: per-class accuracy, danger recall, false alarms.
test-understanding: train
	$(SVC)/python scripts/evaluate_understanding.py --out results/understanding

pytest: train browser mail-server nginx
	$(SVC)/pytest -q

test: lint validate audit test-stories test-nlu test-understanding pytest

clean:
	rm -rf models results var/*.db
