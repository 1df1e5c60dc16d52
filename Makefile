# One-command set-up: `make demo` and `make test` create .venv, install the
# pinned torch (as pip resolves it; TORCH_SPEC overrides), the package and its extras, then run. Re-runs are fast.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sktransfer-installed
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= imblearn,dask,plot,test,docs,dev
# Minimum-versions environment: every declared floor pinned (torch at
# TORCH_SPEC; its floor is documented, not tested).
MIN_VENV ?= .venv-min
MIN_EXTRAS ?= imblearn dask plot test
MIN_STAMP := $(MIN_VENV)/.sktransfer-min-installed
# The demo rewrites its own output folder (./sktransfer-demo) on every run.
DEMO_ARGS ?= --overwrite

.PHONY: install demo test test-fast test-min lint format docs bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

$(MIN_STAMP): pyproject.toml Makefile .ci/min_requirements.py
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) .ci/min_requirements.py --torch "$(TORCH_SPEC)" $(MIN_EXTRAS) \
		> $(MIN_VENV)/requirements-min.txt
	$(MIN_VENV)/bin/python -m pip install --quiet -r $(MIN_VENV)/requirements-min.txt
	$(MIN_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(MIN_VENV)/bin/python -m pip check
	touch $(MIN_STAMP)

# The suite on the declared minimum versions.
test-min: $(MIN_STAMP)
	$(MIN_VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/sktransfer demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check sktransfer tests benchmarks examples
	$(VENV)/bin/ruff format --check sktransfer tests benchmarks examples

format: $(STAMP)
	$(VENV)/bin/ruff check --fix sktransfer tests benchmarks examples
	$(VENV)/bin/ruff format sktransfer tests benchmarks examples

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
	$(PY) docs/check_build.py docs/_build/html

clean:
	rm -rf $(VENV) $(MIN_VENV) docs/_build docs/auto_examples docs/generated .pytest_cache
