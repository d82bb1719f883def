# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: install system run index test test-fast bench train clean

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

# Debian packages the tests use: headless Chromium (browser tests) and the Noto CJK
# fonts with Pango (WeasyPrint typesets the test pages). Installed when missing and
# apt-get can; otherwise says what is missing (browser tests then skip, page tests fail).
SYSTEM_PKGS := chromium fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0

system:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Serif CJK" \
	    && ldconfig -p 2>/dev/null | grep -q libpangoft2; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(SYSTEM_PKGS) (Debian)"; \
	  apt-get update -qq && apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null \
	    || echo "could not install $(SYSTEM_PKGS): browser tests will skip, page tests will fail"; \
	else \
	  echo "missing Debian packages; install them with: sudo apt-get install $(SYSTEM_PKGS)"; \
	fi

test: install system
	$(PY) -m pytest

# Unit tests on two workers (pytest-xdist; worksteal keeps both busy to the end).
# Every test has its own tmp_path and port; session fixtures are built once per worker.
test-fast: install
	$(PY) -m pytest -n 2 --dist worksteal -m "not integration and not browser"

# Retrains both readers from ../shared/train: the feature reader (about 40 min on 2 cores),
# then the span reader (about 100 min; `rag train --reader neural --resume` continues it).
# Neither is needed by run or test: the trained models ship in rag/answer/models/.
train: install
	$(RAG) train
	$(RAG) train --reader neural

bench: install
	$(RAG) bench

clean:
	rm -rf embeddings/index embeddings/index.* .pytest_cache
