# Two commands on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup bench-setup wide-setup demo test lint bench clean line-ocr-model char-model

setup:
	bash scripts/setup.sh

# Benchmarks also need the test-only font families, Tesseract and RapidOCR (apt-packages-bench.txt, [bench]).
bench-setup:
	APT_LISTS="apt-packages.txt apt-packages-bench.txt" EXTRAS=dev,bench bash scripts/setup.sh

# Optional large-coverage training families for `data build --charset wide` (~243 MB installed).
wide-setup:
	APT_LISTS="apt-packages.txt apt-packages-wide.txt" bash scripts/setup.sh

demo: setup
	$(VENV)/bin/hieralign demo

lint: setup
	$(VENV)/bin/ruff check hieralign tests benchmarks
	$(VENV)/bin/mypy

# lint includes the type check (mypy on the library, config in pyproject.toml)
test: setup lint
	$(PY) -m pytest -q

bench: bench-setup
	$(PY) benchmarks/run_all.py

# Train + measure the shipped CTC line recogniser (~60 min on 2 cores; step budget in the script).
line-ocr-model: setup
	PY=$(PY) bash scripts/train_line_ocr.sh

# Train + measure the shipped character model (<= 90 min on 2 free cores; step budget in the script;
# resumable: re-run after an interruption or MAX_MINUTES stop). `make wide-setup` first for the wide vocabulary.
char-model: setup
	PY=$(PY) bash scripts/train_char_model.sh

clean:
	rm -rf runs .pytest_cache .ruff_cache
