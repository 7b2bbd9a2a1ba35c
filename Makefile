# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# nbgrader shells out to alembic: the venv's bin/ must be on PATH
export PATH := $(CURDIR)/$(BIN):$(PATH)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
ASSIGNMENTS := m1_concepts m2_lora m2_vision m3_evaluation
WORKERS ?= 2
DEVICE ?= cpu
HUB_PROXY := deploy/jupyterhub/node_modules/.installed

.PHONY: demo record test test-fast lint venv release references examples bench clean hub hub-stop

$(BIN)/.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -m transfer_course prepare
	touch $@

venv: $(BIN)/.installed

## release/ from source/, with nbgrader
release: venv
	for a in $(ASSIGNMENTS); do nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done

## grade the example submissions in submitted/ and print the scores (quick mode: experiment points from the
## saved outputs, marked provisional; `make record` runs every notebook again for the grade of record)
demo: release
	$(BIN)/python -m grader grade-all submitted --workers $(WORKERS) --quick

record: release
	$(BIN)/python -m grader grade-all submitted --workers $(WORKERS)

## the whole test-suite (what CI runs: lint, then every test; the hub test needs Debian's chromium); it ends with the 20 slowest tests, the list to read before trimming the suite (45-minute target)
test: venv lint $(HUB_PROXY)
	$(BIN)/python -m pytest -x -q --durations=20

## the fast tier for daily work (under 3 minutes): everything not marked slow
test-fast: venv lint
	$(BIN)/python -m pytest -x -q -m "not slow"

## ruff: lint and formatting
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## the course on a local JupyterHub (http://127.0.0.1:8000; HUB_STUDENTS=3, HUB_PASSWORD, HUB_PORT; HUB_MODE=class as root: an account per person)
hub: venv $(HUB_PROXY)
	deploy/jupyterhub/hub.sh start

hub-stop:
	deploy/jupyterhub/hub.sh stop

$(HUB_PROXY): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json
	npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error
	touch $@

## reference results (DEVICE=cuda on a GPU machine)
references: venv
	$(BIN)/python -m grader references build --assignment all --device $(DEVICE)

## rebuild submitted/ (solution, untouched release, partial student), executed
examples: venv
	for a in $(ASSIGNMENTS); do $(BIN)/python -m grader examples build --assignment $$a || exit 1; done

## benchmarks quoted in BENCHMARKS.md (about 90 minutes on 2 cores)
bench: venv
	cd benchmarks && ../$(BIN)/python grading_speed.py && ../$(BIN)/python grading_time.py \
	  && ../$(BIN)/python sandbox_cost.py && ../$(BIN)/python class_grading.py && ../$(BIN)/python lora_cost.py \
	  && ../$(BIN)/python notebook_runtime.py && ../$(BIN)/python record_cost.py \
	  && ../$(BIN)/python cell_cpu_under_load.py

clean:
	rm -rf autograded/* gradebook.db .pytest_cache
