# The two commands a newcomer needs: `make run` (whole system locally) and `make test` (every test).
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= data/sample
export BENTOML_DO_NOT_TRACK := True

.PHONY: install system-deps run test lint data train serve bench

# Create or refresh .venv whenever a requirements file changes.
install: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt bento/requirements.txt gateway/requirements.txt
	@test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

system-deps:
	bash scripts/system-deps.sh

data: install
	@test -f $(DATA)/interactions.csv || $(PY) -m bento.datagen --out $(DATA) --seed 0

train: data
	$(PY) -m bento.train --data $(DATA)

run: data
	$(PY) scripts/run_local.py --data $(DATA)

lint: install
	$(VENV)/bin/flake8

test: install system-deps lint
	$(PY) -m pytest
