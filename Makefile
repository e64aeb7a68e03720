# One entry point for people and CI. Every target sets up what it needs first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# `make run MODELS=demo` builds small random-weight models locally (no model hub needed).
MODELS ?= real
# `make images GPU=1` builds the APIs' GPU variants (CUDA; tags <sha>-gpu) with the page's image.
GPU ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run test test-fast lint format synth deploy destroy bench images images-smoke export clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -e '.[all]'
	touch $@

# checkov pins other packages down, so it lives in a virtual environment of its own.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==3.3.30
	touch $@

install: $(STAMP) $(CHECKOV_VENV)/.installed  ## Create .venv with every service's dependencies (quick when done)

run: $(STAMP)  ## Start the platform locally (MODELS=demo for offline random-weight models)
	$(PY) -m delivery.launcher --models $(MODELS)

test: $(STAMP) $(CHECKOV_VENV)/.installed  ## Run the whole test suite
	$(PY) -m pytest

test-fast: $(STAMP)  ## Tests without the browser and slow ones
	$(PY) -m pytest -m "not browser and not slow"

lint: $(STAMP)  ## ruff check + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

synth: $(STAMP)  ## Synthesize the AWS stack (CDK for Terraform) into cdktf.out/
	$(PY) -m cdktf_app

images: $(STAMP)  ## Build the three container images with docker or podman (GPU=1: the APIs' GPU variants)
	$(PY) -m delivery images $(if $(filter-out 0,$(GPU)),--gpu)

images-smoke: $(STAMP)  ## Build the three images (test models) and run them together as on ECS
	$(PY) -m pytest -m container tests/delivery/test_container_smoke.py

deploy: $(STAMP)  ## Build, push and deploy to AWS (needs AWS credentials)
	$(PY) -m delivery deploy

destroy: $(STAMP)  ## Tear the AWS deployment down (YES=1 skips the prompt)
	$(PY) -m delivery destroy $(if $(YES),--yes)

export: $(STAMP)  ## Export the configured models to ONNX (models/onnx/ by default)
	$(PY) -m apis.export

bench: $(STAMP)  ## Benchmarks; writes bench/results/
	$(PY) -m bench

clean:  ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache cdktf.out
