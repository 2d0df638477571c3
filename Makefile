# Coherence: `make run` opens the app, `make test` runs the tests, the type checker
# (mypy over layout/, physics/ and report/) and the linter.
# The virtual environment .venv is created and filled on first use, and again
# whenever pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: run test typecheck lint bench clean distclean venv

run: $(STAMP)
	$(VENV)/bin/python main.py

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest
	$(VENV)/bin/mypy
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	@if [ -f bench/run.py ]; then \
		$(VENV)/bin/python bench/run.py; \
	else \
		echo "bench/run.py does not exist yet; nothing to run"; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Coherence needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
