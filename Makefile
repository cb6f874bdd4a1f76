# netplumb.multihome: set-up, lint and tests. `make help` lists the targets.
#
# Everything runs from this checkout. ansible-test and the collection's own
# imports need the path .../ansible_collections/netplumb/multihome: the
# targets build that as a symlink tree under .build/ and remove nothing of yours.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
ROOT := $(abspath .)
BUILD := $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
TREE := $(COLLECTIONS)/ansible_collections/netplumb/multihome
STAMP := $(VENV)/.installed
# The upstream CRDs (data, not ours: ../shared/crds/README.md), and the lab role's binary directories that
# tests/lab/upstream/build.py writes after building them into /var/cache/netplumb-build.
CRDS ?= $(abspath $(ROOT)/../shared/crds)
LAB_BINARIES := $(BUILD)/lab-binaries.json

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)

.PHONY: help deps venv tree main lab-up lab-down molecule check ruff lint yamllint ansible-lint changelog-lint sanity pytest units integration test plan bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

deps: ## install the Debian packages the tests and the lab need (root; apt-get), podman's lab settings, and build the lab's Kubernetes, CNI plugins, Multus, whereabouts and AIStore (Go modules)
	./tests/bootstrap-host.sh
	./tests/lab/bootstrap-podman.sh
	$(PYTHON) tests/lab/upstream/build.py --lab-vars $(LAB_BINARIES)

$(STAMP): tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	touch $@

venv: $(STAMP) ## create .venv from the pinned requirements

tree: ## link this checkout at .build/collections/ansible_collections/netplumb/multihome
	mkdir -p $(dir $(TREE))
	ln -sfn $(ROOT) $(TREE)

yamllint: venv
	$(BIN)/yamllint --strict .

ruff: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: venv tree ## the fast inner loop: ruff (lint and format check), yamllint and the unit tests; no root, no network
	@start=$$(date +%s); \
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/yamllint --strict . && \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit; \
	status=$$?; echo "make check: $$(( $$(date +%s) - start )) s"; exit $$status

ansible-lint: venv tree
	$(BIN)/ansible-lint --strict

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

lint: ruff yamllint ansible-lint changelog-lint ## ruff, yamllint, ansible-lint (production profile), changelog fragments

sanity: venv tree ## ansible-test sanity on the collection
	./tests/seed-ansible-test.sh $(BIN)/python
	cd $(TREE) && ANSIBLE_TEST_CONTENT_ROOT=$(TREE) $(BIN)/ansible-test sanity --color no --python 3.11 --requirements $(SANITY_ARGS)

units: venv tree ## unit tests only
	$(BIN)/python -m pytest -q tests/unit

integration: venv tree ## integration tests only (playbooks, galaxy build/install, ansible-doc)
	$(BIN)/python -m pytest -q tests/integration

pytest: venv tree ## unit and integration tests; prints the 30 slowest steps (a lab's setup is its first test's)
	$(BIN)/python -m pytest --durations=30 tests/unit tests/integration

test: ## every test: lint, sanity, unit and integration (the README's test command), each part timed
	@for part in deps lint sanity pytest; do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$part || exit $$?; \
	  echo "make test: $$part took $$(( $$(date +%s) - start )) s"; \
	done

LAB_INVENTORY := $(ROOT)/.build/lab/netplumb-lab/hosts.ini
# Where make main's run writes its report page (callback netplumb.multihome.report): site.html, site.json, site.svg.
REPORT_DIR := $(BUILD)/report
LAB_KUBECONFIG := $(ROOT)/.build/lab/netplumb-lab/kubeconfig
# The CRDs the main job's objects need, applied by the lab as their owners' installs would: the AIS operator's,
# whereabouts', Spiderpool's and Multi-NIC CNI's. The NAD CRD comes from the multus role, as Multus' install has it.
LAB_CRDS := $(filter-out %network-attachment-definitions.yaml,$(wildcard $(CRDS)/*.yaml))
# lab.yml runs on the implicit localhost, without an inventory: no warnings about that.
# Expanded when a recipe runs (=, not :=): after `deps` wrote $(LAB_BINARIES).
LAB_PLAY = ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false $(BIN)/ansible-playbook playbooks/lab.yml \
	$(if $(wildcard $(LAB_BINARIES)),-e @$(LAB_BINARIES)) -e '{"lab_crds": [$(subst $(space),$(comma),$(patsubst %,"%",$(LAB_CRDS)))]}' \
	-e lab_kubelet=true -e lab_aistore_operator=true
# The lab's kubectl on the PATH (the pod matrix reaches its pods with it), from what `deps` built.
LAB_PATH = PATH=$$($(PYTHON) -c 'import json; print(json.load(open("$(LAB_BINARIES)"))["lab_kubernetes_bin_dir"])'):$$PATH
comma := ,
space := $(empty) $(empty)

main: deps venv tree ## the main job: lab up with its control plane and nodes that run pods, playbooks/site.yml on it (plan, routing, Multus rolled out, NADs and AIStore applied, preflight, node and pod matrix, AIStore run by the lab's stand-in for its operator and its cluster map verified), lab down
	$(LAB_PLAY) -e lab_state=present -e lab_router=true
	status=0; $(LAB_PATH) K8S_AUTH_KUBECONFIG=$(LAB_KUBECONFIG) ANSIBLE_CALLBACKS_ENABLED=netplumb.multihome.report \
	  NETPLUMB_REPORT_DIR=$(REPORT_DIR) $(BIN)/ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml \
	  -e @vars/lab.yml || status=$$?; \
	$(LAB_PLAY) -e lab_state=absent -e lab_router=true || status=$$((status ? status : 1)); \
	echo "The run's report: $(REPORT_DIR)/site.html"; \
	exit $$status

plan: deps venv tree ## plan the example inventory's addressing and print it (no host is touched)
	$(BIN)/ansible-playbook -i inventory/hosts.ini playbooks/plan_addresses.yml

lab-up: deps venv tree ## bring up the local multi-NIC lab (3 nodes x 2 NICs as podman containers running kubelet, and a Kubernetes control plane)
	$(LAB_PLAY) -e lab_state=present
	@echo "The lab's API: export K8S_AUTH_KUBECONFIG=$(LAB_KUBECONFIG) KUBECONFIG=$(LAB_KUBECONFIG)"

lab-down: venv tree ## remove the lab (containers, pod, networks, inventory, control plane state); the image and binaries stay cached
	$(LAB_PLAY) -e lab_state=absent

# tests/molecule/, not molecule/ or extensions/molecule/: tell molecule where the scenarios are.
molecule: deps venv tree ## molecule test of one scenario on a lab of its own: make molecule SCENARIO=multihome_routing (all without SCENARIO)
	MOLECULE_GLOB='tests/molecule/*/molecule.yml' $(BIN)/molecule test $(if $(SCENARIO),-s $(SCENARIO),--all)

bench: venv tree ## benchmarks under bench/ (print their figures)
	for b in bench/*.py; do $(BIN)/python $$b; done

clean: ## remove .build and .venv
	rm -rf $(BUILD) $(VENV)
