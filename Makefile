# Everything set up from scratch: `make preview` (offline preview of the dev stack) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml))
SHARED ?= ../shared

.PHONY: install preview test lint conformance benchmark docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	touch $@

preview: install
	$(BIN)/inferstack preview --stack dev

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/pytest

# Upstream CRD schemas live in ../shared (CI only): render every stack and validate its manifests.
conformance: install
	rm -rf out/manifests
	for s in $(STACKS); do $(BIN)/inferstack render --stack $$s --out out/manifests/$$s || exit 1; done
	$(BIN)/python $(SHARED)/tools/crd_validate.py out/manifests

benchmark: install
	$(BIN)/python -m pip install --quiet -e '.[all,bench]'
	$(BIN)/python scripts/benchmark.py

# docs/api.md and docs/config.md (the config reference), generated from the code (tests/test_docs.py fails when stale).
docs: install
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) out build dist *.egg-info
