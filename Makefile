# Two commands: `make book` (build the book on the embedded synthetic cohort)
# and `make test`.  Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= demo
STAMP := $(VENV)/.installed

.PHONY: book test test-workflow test-builds test-on-smoke test-on-smoke-hospital test-on-smoke-others smoke browser pdf test-pdf env clean lab bench faults cluster-test spread

# Bytecode. pip is told not to compile (it compiles all ~17,600 modules of the environment, on one core, for the
# ~4,200 that the book imports): Python writes each module's bytecode when it first imports it. Where
# PYTHONDONTWRITEBYTECODE is set it cannot, and every one of a build's ~60 job processes would compile what it
# imports again: there all is compiled at install, on every core (torch's own test helpers left out: one of them
# only Python 3.12 can compile).
COMPILE = $(if $(PYTHONDONTWRITEBYTECODE),$(BIN)/python -m compileall -q -j 0 -x '/torch/testing/_internal/' $(VENV)/lib src/ecrs_analysis >/dev/null,:)

# What `make book` needs; each other target adds its extra of pyproject.toml (test, lab, browser, cluster).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -c requirements.lock -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(COMPILE)
	touch $(STAMP)

# An extra's packages only: the project itself, installed above, is not built again.
$(VENV)/.installed-%: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-compile -c requirements.lock "ecrs-analysis[$*]"
	$(COMPILE)
	touch $@

env: $(VENV)/.installed-cluster

book: $(STAMP)
	$(BIN)/ecrs run --profile $(PROFILE)

smoke: $(STAMP)
	$(BIN)/ecrs run --profile smoke

# Every network trained under SEEDS training seeds on the same cohort and split (results/$(PROFILE)/spread/);
# each headline metric's mean and range over them -> results/$(PROFILE)/tables/seed_spread.csv, which the next
# `make book` shows in the appendix.
SEEDS ?= 3
spread: $(STAMP)
	$(BIN)/ecrs spread --profile $(PROFILE) --seeds $(SEEDS)

# Lint (ruff and mypy, settings in pyproject.toml: a finding fails the target), then the fast unit tests.
# The workflow tests (marked slow) are `make test-workflow`: `make test-builds` (those that make a tiny build or
# results folder of their own) and `make test-on-smoke` (those that read the one shared smoke build, marked
# smoke_build: results/smoke of `make smoke`, or made first; brought up to date, which runs nothing when it is).
# The tests run one thread per process (OpenMP, BLAS): their arrays are tiny, and CI runs them beside the smoke
# book, whose jobs get their threads from Snakemake; two spinning threads per test process cost CI ~100 CPU-seconds.
PYTEST := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q

test: $(VENV)/.installed-test
	$(BIN)/ruff check src
	$(BIN)/mypy
	$(PYTEST) -m "not slow and not browser and not faults"

test-workflow: test-builds test-on-smoke

# The files that hold the slow tests: their two sessions collect only these (collecting the whole suite costs
# ~13 CPU-seconds a session); tests/test_environment.py fails when a slow test lies in a file not listed.
SLOW_TESTS := tests/data/test_dicom_export.py tests/jobs/test_chapter_jobs.py tests/jobs/test_explain_notebook.py \
	tests/pipeline/test_book_end_to_end.py tests/pipeline/test_workflow_contract.py tests/test_cli_train_synth.py

test-builds: $(VENV)/.installed-test
	$(PYTEST) -m "slow and not smoke_build and not browser and not faults" $(SLOW_TESTS)

# Two sessions side by side, each one's output shown whole when it ends (make -O): the hospital's book (a build of its
# own on a linked copy of the shared one, ~2 min, Snakemake on both cores) and every other check of the shared build
# (~30 s on one core). One after the other, that core sat idle for the last ~30 s of CI. No test writes to the shared
# build (each works on a linked copy), so the two do not see each other.
ON_SMOKE := ECRS_SMOKE_RESULTS=$(CURDIR)/results/smoke $(PYTEST) -m "smoke_build and not browser and not faults"
HOSPITAL_TESTS := tests/pipeline/test_book_end_to_end.py

test-on-smoke: $(VENV)/.installed-test
	$(MAKE) --no-print-directory -j 2 -O test-on-smoke-hospital test-on-smoke-others

test-on-smoke-hospital: $(VENV)/.installed-test
	$(ON_SMOKE) $(HOSPITAL_TESTS)

test-on-smoke-others: $(VENV)/.installed-test
	$(ON_SMOKE) $(filter-out $(HOSPITAL_TESTS),$(SLOW_TESTS))

# The published book (_build/html, e.g. after `make smoke`) in headless Chromium; screenshots in _build/screenshots/.
browser: $(VENV)/.installed-browser $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m browser tests/report/test_browser.py

# The published book (_build/html) as one PDF, printed offline by Debian's Chromium: every page in the
# order of _toc.yml, each chapter from a new page, figures and tables numbered as on the web pages.
pdf: $(STAMP)
	$(BIN)/python -m ecrs_analysis.report.pdf --html _build/html --out _build/pdf/ecrs-book.pdf

# Prints the published book to _build/pdf/ecrs-book.pdf and checks it (chapters, captions; needs pdftotext).
test-pdf: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m browser tests/report/test_pdf.py

# Crash-safety and reproducibility: builds killed at each stage resume to the same results; two builds
# give identical artefacts (minutes: not part of `make test`).
faults: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m faults tests/faults

# The smoke book on a real one-node SLURM cluster set up on this machine (root; installs Debian packages).
cluster-test: $(VENV)/.installed-cluster $(VENV)/.installed-test
	bash tests/cluster/run_slurm_test.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build results book/executed
