# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: install run index test test-fast bench train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build lies on this machine's disk; an unpinned torch pulls CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Incremental: unchanged files are skipped, so this is quick when fresh.
index: install
	$(RAG) ingest corpus/

run: index
	$(RAG) serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest

# Unit tests on two workers (pytest-xdist; worksteal keeps both busy to the end).
# Every test has its own tmp_path and port; session fixtures are built once per worker.
test-fast: install
	$(PY) -m pytest -n 2 --dist worksteal -m "not integration and not browser"

# Retrains the reader from ../shared/train (about an hour on 2 cores; not needed by run or test).
train: install
	$(RAG) train

bench: install
	$(RAG) bench

clean:
	rm -rf embeddings/index embeddings/index.* .pytest_cache
