# soundsticker — set-up, build, demo, tests and benchmarks.
# `make demo` and `make test` work on a fresh Debian/Ubuntu machine: they install what is missing first.

CARGO   ?= cargo
BIN     := target/release/soundsticker
DEMO    := assets/demo
OUT     := demo-out

# Build: cmake and a C compiler for the bundled libopus (opusic-sys), pkg-config for -sys crates.
APT_BUILD := build-essential cmake pkg-config libvpx-dev
# Independent checks used by the tests and the benchmark, plus GNU time for peak memory.
APT_TEST  := ffmpeg opus-tools webp sox flac time bc zip unzip

.PHONY: all deps build demo test bench lint assets clean

all: build

# Install missing system packages: with apt-get when root, otherwise print the exact command.
deps:
	@missing=""; for p in $(APT_BUILD) $(APT_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs (1.89 or newer)"; exit 1; }

build: deps
	$(CARGO) build --release --locked

# The main job on the demo master: probe it, then cut sound-sticker clips from it.
demo: build
	@rm -rf $(OUT) && mkdir -p $(OUT)
	$(BIN) probe $(DEMO)/master.flac
	$(BIN) clip $(DEMO)/master.flac -o $(OUT)/hook.ogg --start 0:15 --duration 4 --picture $(DEMO)/cover-thumb.jpg
	$(BIN) clip $(DEMO)/master.flac -o $(OUT)/voice-note.ogg --start 0:23.5 --duration 3 --channels mono --max-bytes 24000
	$(BIN) clip $(DEMO)/master.flac -o $(OUT)/blip.ogg --start 0:19.285 --duration 1 --fade-out 150ms
	$(BIN) clip $(DEMO)/master.flac -o $(OUT)/hook.wav --start 0:15 --duration 4 --bits 16
	$(BIN) --json clip $(DEMO)/master.flac -o $(OUT)/soundboard.ogg --start 0:15 --duration 5 --max-bytes 512000 > $(OUT)/soundboard.json
	$(BIN) cover $(DEMO)/cover.png --audio $(OUT)/hook.ogg --style vinyl --platform whatsapp -o $(OUT)/vinyl-whatsapp.webp
	$(BIN) cover $(DEMO)/cover.png --audio $(OUT)/hook.ogg --style pulse --platform telegram -o $(OUT)/pulse-telegram.webm
	$(BIN) cover $(DEMO)/cover.png --audio $(OUT)/blip.ogg --style bars --platform discord -o $(OUT)/bars-discord.png
	$(BIN) cover $(DEMO)/cover.png --style still --platform whatsapp -o $(OUT)/still-whatsapp.webp
	$(BIN) build $(DEMO)/pack.json --out $(OUT)/packs --cache $(OUT)/cache
	@echo "--- the same build again: every file comes from the cache, and the packs are byte-identical"
	$(BIN) build $(DEMO)/pack.json --out $(OUT)/packs --cache $(OUT)/cache --quiet
	@echo "demo clips and stickers are in $(OUT)/; the packs for every platform are in $(OUT)/packs/;"
	@echo "open $(OUT)/packs/preview.html in a browser to review every sticker with its sound"

# Unit tests, then the integration tests: one binary, tests/it (alone: cargo test --release --test it).
test: deps
	$(CARGO) test --release --locked
	@echo "--- the library without the command line's crates (the cli feature)"
	$(CARGO) build --release --locked --lib --no-default-features

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

bench: build
	$(CARGO) build --release --locked --example ssim
	bash tests/bench/bench_clip.sh
	bash tests/bench/bench_cover.sh
	bash tests/bench/bench_pack.sh

# Regenerate the demo assets from code (not needed for anything else; the results are committed).
assets: deps
	$(CARGO) run --release --example make_demo_assets -- $(DEMO)
	flac -s -8 -f --tag=TITLE="Sticker Groove" --tag=ARTIST="soundsticker demo band" \
	  --tag=ALBUM="Demo Pack" --tag=ISRC=XXA002600001 $(DEMO)/master.wav -o $(DEMO)/master.flac
	rm -f $(DEMO)/master.wav

clean:
	$(CARGO) clean
	rm -rf $(OUT)
