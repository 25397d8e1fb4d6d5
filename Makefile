# Two commands on a fresh machine:  make forecast   (the default question's forecast and charts)
#                                   make test       (the whole test suite)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= out

.PHONY: forecast test lint benchmark notebooks clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || { \
	  echo "error: forecast needs Python >= 3.12, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "       Inside this repository pyenv selects 3.12 through .python-version;"; \
	  echo "       elsewhere run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)"; exit 1; }
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  echo "error: $(VENV) was made with $$($(PY) --version); remove it (rm -rf $(VENV)) and retry."; exit 1; fi

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# The tests execute the notebooks, so the test install adds the Jupyter stack (`notebooks` extra);
# `make forecast` installs only the package.
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev,notebooks]'
	touch $@

forecast: check-python $(VENV)/.installed
	$(VENV)/bin/forecast run --out $(OUT)
	$(VENV)/bin/forecast charts --out $(OUT) --format png,svg,pdf

test: check-python $(VENV)/.installed-dev
	$(PY) -m pytest -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check forecast tests benchmarks

benchmark: $(VENV)/.installed-dev
	$(PY) benchmarks/run.py --out benchmarks/results

notebooks: check-python $(VENV)/.installed-dev
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(OUT) .pytest_cache
