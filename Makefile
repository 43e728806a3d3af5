# ai-worker: the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements/dev.txt requirements/tools.txt
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.PHONY: demo test test-latest lint lock services system-deps bench clean worker flower

# Everything installs from the lock (exact versions, sha256 hashes); see README "Development".
$(STAMP): pyproject.toml $(LOCK)
	@scripts/ensure_python.sh "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --require-hashes -r requirements/tools.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

## Grade the bundled sample phone photo in-process (no server needed) and print the result.
demo: $(STAMP)
	@mkdir -p out
	$(VENV)/bin/ai-worker omr grade omr/samples/photo_20q.jpg \
		--meta omr/samples/meta_20q.json --key omr/samples/key_20q.json \
		--overlay out/demo_overlay.png
	@echo "overlay written to out/demo_overlay.png" >&2

## Install everything (Debian packages too), make sure Redis and RabbitMQ answer, run every test.
test: $(STAMP) services
	CI=$${CI:-1} $(PY) -m pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## The unit tests (not tests/integration) against the newest releases of the native libraries
## inside pyproject's ranges, so an upstream change shows before users get it: .venv-latest
## installs the lock, then upgrades NATIVE without hashes; .venv is not touched. ARGS: more pytest arguments.
VENV_LATEST ?= .venv-latest
NATIVE := opencv-python-headless numpy Pillow pypdfium2 av onnxruntime
test-latest: services
	@scripts/ensure_python.sh "$(PYTHON)" "$(VENV_LATEST)"
	$(VENV_LATEST)/bin/python -m pip install --quiet --require-hashes -r requirements/tools.txt
	$(VENV_LATEST)/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(VENV_LATEST)/bin/python scripts/native_specs.py $(NATIVE) > $(VENV_LATEST)/native.txt
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade -r $(VENV_LATEST)/native.txt
	@$(VENV_LATEST)/bin/python -m pip list --format=freeze 2>/dev/null \
		| grep -iE '^($(shell echo $(NATIVE) | tr ' ' '|'))==' | sed 's/^/newest: /'
	CI=$${CI:-1} PYTHONPATH=$(CURDIR) $(VENV_LATEST)/bin/python -m pytest --ignore=tests/integration $(ARGS)

system-deps:
	@scripts/ensure_system.sh

services: system-deps
	@scripts/ensure_services.sh

## Re-resolve the lock (requirements/*.txt) with uv; ARGS="--upgrade-package NAME" moves one package.
lock: $(STAMP)
	UV=$(VENV)/bin/uv scripts/lock.sh $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP) services
	$(PY) bench/omr_accuracy.py
	$(PY) bench/omr_throughput.py --count 60
	$(PY) bench/omr_real.py
	$(PY) bench/omr_speed.py

worker: $(STAMP)
	$(VENV)/bin/celery -A ai_tasks worker -Q cpu-vision -n cpu-vision@%h --loglevel INFO

## Flower on 127.0.0.1:5555; refuses to start without FLOWER_USER and FLOWER_PASSWORD (docs/operations.md).
flower: $(STAMP)
	$(PY) -m ai_tasks.flower

clean:
	rm -rf $(VENV) out bench/out
