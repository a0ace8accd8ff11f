# The two commands a newcomer needs: `make demo` and `make test`.
# Both build .venv and install the project with its test extras first; re-running is fast.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# a library of Debian's pango, which WeasyPrint needs for the PDF reports (installed when missing)
PANGO  := /usr/lib/$(shell uname -m)-linux-gnu/libpangoft2-1.0.so.0

.PHONY: demo test lint typecheck pytest bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP) $(PANGO)
	$(BIN)/commonfactors demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy src/commonfactors

# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "installing Debian's chromium for the browser tests"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# PDF reports (WeasyPrint) lay out their text with Debian's pango libraries.
$(PANGO):
	@echo "installing Debian's pango for the PDF reports"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0

pytest: $(STAMP) $(CHROMIUM) $(PANGO)
	$(BIN)/pytest -W error

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Regenerate docs/instruments/ from the definition files (a test fails when they are stale).
docs: $(STAMP)
	$(BIN)/commonfactors instruments docs --out docs/instruments

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
