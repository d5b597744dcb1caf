# Portico: `make run` serves the demo, `make test` runs every check. See README.md.
#
# The build does not use cargo-leptos: the wasm bundle is built with cargo, finished with
# wasm-bindgen (the exact version of the crate in Cargo.lock) and, for releases, wasm-opt.
# Tools are installed once into a per-user cache and reused by every clone.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS_DIR ?= $(HOME)/.cache/portico/tools
export TOOLS_DIR
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
WASM_BINDGEN := $(TOOLS_DIR)/wasm-bindgen-cli-$(WASM_BINDGEN_VERSION)/bin/wasm-bindgen
WASM_OPT := tools/node_modules/.bin/wasm-opt
PLAYWRIGHT := end2end/node_modules/.bin/playwright
CHROMIUM := /usr/bin/chromium

SITE := target/site
BUNDLE := portico
WASM_TARGET := wasm32-unknown-unknown
# The features Rust enables for wasm32 by default; wasm-opt must accept (and keep) them.
WASM_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
                 --enable-mutable-globals --enable-reference-types --enable-multivalue

APP_WASM := cargo build -p app --lib --target $(WASM_TARGET) --no-default-features --features hydrate

.PHONY: help run build test lint unit e2e bench tools site-release site-dev clean

help:
	@echo "make run    install what is missing, build, serve the demo on http://127.0.0.1:3000"
	@echo "make test   fmt, clippy, unit and integration tests (SQLite + PostgreSQL), end-to-end"
	@echo "make build  release binary target/release/portico and its site in $(SITE)/"
		@echo "make bench  start-up, memory, bundle, page latency, catalog, channel, probe, deployment and golden path figures"

## run: serve the demo data set with the embedded database.
run: build
	target/release/portico serve --demo

## build: the release binary and the release site.
build: site-release
	cargo build --release -p portico-server

## test: everything CI checks.
test: lint unit e2e

lint: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p app --lib --target $(WASM_TARGET) --no-default-features --features hydrate -- -D warnings

unit: tools
	PORTICO_REQUIRE_POSTGRES=1 tools/with-test-postgres.sh cargo test --workspace

# Each run: a free port, a new SQLite database in a temporary directory, removed after.
e2e: build end2end/node_modules/.installed $(CHROMIUM)
	data=$$(mktemp -d); trap 'rm -rf "$$data"' EXIT; \
	cd end2end && PORTICO_E2E_PORT=$$(../tools/free-port.sh) PORTICO_E2E_DATA="$$data" \
	  PORTICO_BIN=../target/release/portico PORTICO_SITE_ROOT=../$(SITE) ./node_modules/.bin/playwright test

bench: build
	python3 tools/bench.py --bin target/release/portico --site $(SITE)
	python3 tools/catalog-bench.py --bin target/release/portico --count 10000 --backend sqlite
		PORTICO_PG_DURABLE=1 tools/with-test-postgres.sh python3 tools/catalog-bench.py --bin target/release/portico --count 10000 --backend postgres --requests 200
	cargo build --release -p portico-channel-load
	python3 tools/channel-bench.py --bin target/release/portico --load target/release/channel-load --sockets 200 --events 20
	python3 tools/health-bench.py --bin target/release/portico --probes 5000 --interval 15s
	python3 tools/template-bench.py --bin target/release/portico --runs 20

## Tools: each installed only when missing.
tools: $(WASM_BINDGEN) tools/node_modules/.installed wasm-target

.PHONY: wasm-target
wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

# wasm-bindgen-cli's own lock file wants a webpki-roots release the registry lacks: pin
# the nearest one (it is not used for anything the CLI does offline).
$(WASM_BINDGEN):
	tools/install-cargo-tool.sh wasm-bindgen-cli $(WASM_BINDGEN_VERSION) wasm-bindgen webpki-roots=1.0.10

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

# Browsers cannot be downloaded here: Playwright drives Debian's Chromium.
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

## The site: wasm bundle + JS glue + style sheet + public files, gzipped beside.
site-release: tools
	$(APP_WASM) --profile wasm-release
	$(MAKE) --no-print-directory assemble-site WASM=target/$(WASM_TARGET)/wasm-release/app.wasm OPTIMIZE=1

site-dev: tools
	$(APP_WASM)
	$(MAKE) --no-print-directory assemble-site WASM=target/$(WASM_TARGET)/debug/app.wasm OPTIMIZE=

.PHONY: assemble-site
assemble-site:
	rm -rf $(SITE).next && mkdir -p $(SITE).next/pkg
	$(WASM_BINDGEN) --target web --no-typescript --out-dir $(SITE).next/pkg --out-name $(BUNDLE) $(WASM)
	mv $(SITE).next/pkg/$(BUNDLE)_bg.wasm $(SITE).next/pkg/$(BUNDLE).wasm
	$(if $(OPTIMIZE),$(WASM_OPT) -Oz $(WASM_FEATURES) -o $(SITE).next/pkg/$(BUNDLE).wasm $(SITE).next/pkg/$(BUNDLE).wasm)
	cp style/main.css $(SITE).next/pkg/$(BUNDLE).css
	cp -r public/. $(SITE).next/
	gzip -9 -k -f $(SITE).next/pkg/*.wasm $(SITE).next/pkg/*.js $(SITE).next/pkg/*.css
	rm -rf $(SITE) && mv $(SITE).next $(SITE)

clean:
	cargo clean
	rm -rf tools/node_modules end2end/node_modules end2end/test-results
