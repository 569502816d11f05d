# Two commands: `make book` (build the book on the embedded synthetic cohort)
# and `make test`.  Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= demo
STAMP := $(VENV)/.installed

.PHONY: book test smoke browser env clean lab bench faults cluster-test

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,cluster]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

env: $(STAMP)

book: $(STAMP)
	$(BIN)/ecrs run --profile $(PROFILE)

smoke: $(STAMP)
	$(BIN)/ecrs run --profile smoke

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The published book (_build/html, e.g. after `make smoke`) in headless Chromium; screenshots in _build/screenshots/.
browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser tests/book/test_browser.py

# Crash-safety and reproducibility: builds killed at each stage resume to the same results; two builds
# give identical artefacts (minutes: not part of `make test`).
faults: $(STAMP)
	$(BIN)/python -m pytest -q -m faults tests/faults

# The smoke book on a real one-node SLURM cluster set up on this machine (root; installs Debian packages).
cluster-test: $(STAMP)
	bash tests/cluster/run_slurm_test.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build results book/executed
