# Everything set up from scratch: `make preview` (offline preview of the dev stack) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml))
SHARED ?= ../shared

.PHONY: install preview test lint conformance benchmark docs clean clean-tools tools e2e

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

# Upstream CRD schemas live in ../shared (CI only): render every stack (with the objects of the Helm releases whose
# chart archives are in CHART_DIR; the others are listed in out/manifests/<stack>/charts-not-rendered.json), validate
# custom resources against the CRD schemas, then core objects against Kubernetes' own schemas at the pinned version
# (kubernetes-validate); kinds with neither schema are listed by kind as skipped.
CHART_DIR ?=
conformance: install
	rm -rf out/manifests
	for s in $(STACKS); do $(BIN)/inferstack render --stack $$s --out out/manifests/$$s --include-charts $(if $(CHART_DIR),--chart-dir $(CHART_DIR)) || exit 1; done
	$(BIN)/python $(SHARED)/tools/crd_validate.py out/manifests
	$(BIN)/python scripts/k8s_validate.py --crd-schemas $(SHARED)/schemas \
	  --version $$($(BIN)/python -c 'from inferstack.catalog.versions import EKS_VERSION; print(EKS_VERSION)') out/manifests

# The real engine (docs/engine.md): build kube-apiserver, etcd, the Pulumi CLI, its Python language host and the
# Kubernetes provider from Go modules into .tools/bin (skipped when present), then run tests/e2e against them:
# server-side apply of every stack on a real API server, and real `pulumi up` / `preview` runs. Needs Go and ../shared.
# -raP: skip reasons, and the reports the passing tests print (per stack: applied, rejected, warnings, second apply).
tools:
	bash scripts/build_tools.sh

e2e: install tools
	INFERSTACK_E2E=1 INFERSTACK_SHARED=$(abspath $(SHARED)) $(BIN)/pytest tests/e2e -p no:cacheprovider -raP

benchmark: install
	$(BIN)/python -m pip install --quiet -e '.[all,bench]'
	$(BIN)/python scripts/benchmark.py

# docs/api.md and docs/config.md (the config reference), generated from the code (tests/test_docs.py fails when stale).
docs: install
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) out build dist *.egg-info

# .tools/bin (the built e2e tools) is kept by clean: it takes minutes to rebuild. `make clean-tools` removes it.
clean-tools:
	rm -rf .tools
