# The two commands a newcomer needs: `make run` (whole system locally) and `make test` (every test).
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= data/sample
export BENTOML_DO_NOT_TRACK := True

.PHONY: install system-deps run test lint data train retrain serve bench images quality locks

# Create or refresh .venv whenever a requirements file changes.
install: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt requirements-deploy.txt bento/requirements.txt \
		gateway/requirements.txt bento/requirements-spark.txt
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

# Learn from the likes in the gateway's database (make run's SQLite file by default); the local
# BentoML store is the registry unless MLFLOW_TRACKING_URI is set. Restart the Bento to serve it.
DATABASE_URL ?= sqlite:///var/gateway.db
retrain: install
	DATABASE_URL=$(DATABASE_URL) $(PY) -m bento.retrain

lint: install
	$(VENV)/bin/flake8

test: install system-deps tools lint
	$(PY) -m pytest

# checkov has heavy, conflicting pins: it gets its own venv, rebuilt when its pin changes.
TOOLS_VENV := .tools-venv
.PHONY: tools manifests
tools: $(TOOLS_VENV)/.installed
$(TOOLS_VENV)/.installed: requirements-tools.txt
	@test -x $(TOOLS_VENV)/bin/python || $(PY_BOOT) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install -q -r requirements-tools.txt
	@touch $@

# Kustomize render, strict schemas, cross-checks, actionlint and checkov (tests/deploy).
manifests: install system-deps tools
	$(PY) -m pytest -q tests/deploy

# Build the three container images with buildah (stand-in bases, no registry), smoke-test them
# with podman through the frontend container, then measure sizes and a Bento replica's cold start
# into docs/IMAGES.md. See README, "Containers".
images: install system-deps
	bash scripts/images/build.sh
	$(PY) -m scripts.images.smoke
	$(PY) -m scripts.images.report --out docs/IMAGES.md

# The OpenAPI fuzzer's long version: 500 generated requests per operation of the live gateway
# and the live Bento (make test runs 25); no 5xx, answers as documented.
.PHONY: fuzz
fuzz: install system-deps
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest -q tests/reliability/test_fuzz.py

# Recommendation quality vs EASE/ALS on real data; rewrites docs/QUALITY.md (several minutes).
quality: install
	$(PY) -m bench.quality

# Load through nginx -> gateway -> Bento next to the Bento alone; rewrites docs/BENCHMARKS.md.
.PHONY: benchmarks
benchmarks: install system-deps
	$(PY) -m bench.load --json var/bench-load.json
	$(PY) -m bench.load_report var/bench-load.json --out docs/BENCHMARKS.md
	$(PY) -m bench.serve --out docs/SERVING.md
	$(PY) -m bench.impressions

# Lock files with hashes, one per deployable, from its requirements.txt pins (Python 3.11, Linux
# x86_64 like the images). Re-run after changing a requirements.txt: tests/deploy/test_locks.py
# says when a lock is stale. The images install them with `pip install --require-hashes`.
LOCK := $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make locks"
locks: install
	$(LOCK) bento/requirements.txt -o bento/requirements.lock
	$(LOCK) bento/requirements-spark.txt -o bento/requirements-spark.lock
	$(LOCK) gateway/requirements.txt -o gateway/requirements.lock
