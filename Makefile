# groot-ops — the two commands of a fresh machine are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch is pinned to the CPU build that is available offline; asked for first so that no
# other requirement pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv lab-venv docker lint unit test lab lab-down bench bench-lab clean

help:
	@echo "make lab        bring up the local lab and run the whole pipeline (site.yml) on it"
	@echo "make lab-down   remove everything the lab created"
	@echo "make test       lint + every test (creates $(VENV), starts a Docker engine if none answers)"
	@echo "make bench      data-engine benchmark (numbers quoted in README.md)"
	@echo "make bench-lab  ops-loop benchmark on a fresh lab: first site.yml, second, plan"

# What the lab needs on this machine: the controller side of groot-ops (Ansible, ansible-runner, the
# Hub client) and av for the lab's synthetic videos. No torch, no lint or test toolchain.
$(VENV)/.lab-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -q -e ".[lab]"
	touch $@

# Everything `make test` runs with: the lab's packages, CPU torch and the test toolchain.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[test]"
	touch $@ $(VENV)/.lab-installed

venv: $(VENV)/.installed

lab-venv: $(VENV)/.lab-installed

docker:
	bash tests/lab/ensure-docker.sh

lint: venv
	ruff check python tests library module_utils doc_fragments action_plugins
	ruff format --check python tests library module_utils doc_fragments action_plugins
	yamllint -s .
	ANSIBLE_CONFIG=$(CURDIR)/ansible.cfg ansible-lint --profile production -q
	bash tests/check-module-docs.sh

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test: venv docker lint
	$(PY) -m pytest tests $(PYTEST_ARGS)

lab: lab-venv docker
	$(PY) -m groot_ops lab run

lab-down: lab-venv
	$(PY) -m groot_ops lab down

bench: venv
	$(PY) -m groot_ops bench data

bench-lab: lab-venv docker
	$(PY) -m groot_ops bench lab

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist python/*.egg-info
