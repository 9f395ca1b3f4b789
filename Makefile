# One command for every check.  Run from the repository root inside the venv
# (python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && . .venv/bin/activate).

PYTHON ?= python
REAL_IMAGES ?= tests/data/real

.PHONY: check lint format format-check types imports test snapshots real-images test-real bench ci

check: lint format-check types imports test  ## everything CI checks, in the order CI runs it

lint:  ## ruff over the package, the tests and the benchmarks
	ruff check dive_py tests benchmarks

format:  ## rewrite the code in ruff's format
	ruff format dive_py tests benchmarks

format-check:  ## fail when a file is not in ruff's format
	ruff format --check dive_py tests benchmarks

types:  ## mypy --strict over dive_py, tests and benchmarks (settings in pyproject.toml)
	mypy

imports:  ## the import-linter contracts: package layers and the core's rooms
	lint-imports

test:  ## the README's test command
	$(PYTHON) -m pytest -n 2

snapshots:  ## re-render the screen snapshots; review snapshot_report.html first
	$(PYTHON) -m pytest tests/ui/test_snapshots.py --snapshot-update

real-images:  ## build the real images (root, Debian tools; a few minutes)
	bash ../shared/tools/make-real-images.sh $(REAL_IMAGES)

test-real:  ## the tests on real images
	DIVEPY_REAL_IMAGES=$(REAL_IMAGES) $(PYTHON) -m pytest -n 2 tests/real

bench:  ## benchmarks: generate the big images once, then time the CLI and the explorer
	$(PYTHON) benchmarks/make_images.py
	$(PYTHON) benchmarks/bench.py
	$(PYTHON) benchmarks/bench_tui.py
	$(PYTHON) benchmarks/bench_tarscan.py
	$(PYTHON) benchmarks/bench_insights.py

ci:  ## exactly what CI runs, from a fresh venv (installs tmux with apt-get when missing)
	CI=true bash .ci/run
