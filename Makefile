# jobd's build entry points. `make setup` and `make test` are the README's two set-up commands' engines.
SHELL := /bin/bash
TFM ?= net9.0
RID ?= linux-x64
BIN := artifacts/jobd/jobd

.PHONY: all setup publish build test run stop-local clean reference deb bench bench-smoke publish-bench

all: publish

## Install what building, running and testing need on Debian/Ubuntu (idempotent).
setup:
	./packaging/dev/deps.sh

## The Native-AOT binary; any AOT or trim warning fails the build (TreatWarningsAsErrors).
publish:
	dotnet publish src/Jobd.Host -c Release -r $(RID) -p:JobdTargetFramework=$(TFM) -o artifacts/jobd
	@rm -f artifacts/jobd/*.dbg
	@ls -l $(BIN) | awk '{print "jobd binary: " $$5 " bytes"}'

build:
	dotnet build Daemon.sln -c Release

## Unit, integration and black-box tests against real redis-server and Postgres started by the test run.
test: setup publish
	set -o pipefail; JOBD_BIN=$(CURDIR)/$(BIN) dotnet test Daemon.sln -c Release --logger "console;verbosity=minimal" 2>&1 \
	  | tee artifacts/test.log; status=$$?; \
	  awk '/^(Passed|Failed)! / { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($$i == "Failed:") f += $$(i+1); \
	       if ($$i == "Passed:") p += $$(i+1); if ($$i == "Skipped:") s += $$(i+1) }; n++ } \
	       END { printf "jobd tests: %d passed, %d failed, %d skipped, in %d test assemblies\n", p, f, s, n }' artifacts/test.log; \
	  exit $$status
	$(MAKE) bench-smoke

## jobd end to end on this machine: local redis-server (and Postgres) when REDIS_URL/DATABASE_URL are unset.
run: setup publish
	./packaging/dev/run-local.sh

stop-local:
	./packaging/dev/stop-local.sh

## Regenerates the README's configuration table from the code.
reference: publish
	$(BIN) config --reference > artifacts/reference.md
	awk '/config-reference:begin/ { print; while ((getline l < "artifacts/reference.md") > 0) print l; skip = 1; next } \
	     /config-reference:end/ { skip = 0 } !skip { print }' README.md > artifacts/README.md && mv artifacts/README.md README.md

## Debian package artifacts/jobd_<version>_amd64.deb (binary, systemd unit, /etc/jobd/jobd.env); see packaging/README.md.
deb: publish
	./packaging/deb/build-deb.sh artifacts

clean:
	rm -rf artifacts src/*/bin src/*/obj tests/*/bin tests/*/obj

## The benchmark driver, Native AOT like jobd itself.
publish-bench:
	dotnet publish tests/bench/Jobd.Bench -c Release -r $(RID) -p:JobdTargetFramework=$(TFM) -o artifacts/jobd-bench
	@rm -f artifacts/jobd-bench/*.dbg

## Every PRODUCT.md hard number, 3 runs each, against its own redis-server and Postgres (about 15 minutes).
## Writes artifacts/bench/results.md and drain.svg, and copies them to docs/bench/ for the README.
bench: publish publish-bench
	artifacts/jobd-bench/jobd-bench suite $(CURDIR)/$(BIN) artifacts/bench
	mkdir -p docs/bench && cp artifacts/bench/results.md artifacts/bench/drain.svg docs/bench/

## The same suite with tiny counts and one run, in seconds: keeps the benchmark from rotting (part of `make test`).
bench-smoke: publish publish-bench
	artifacts/jobd-bench/jobd-bench suite $(CURDIR)/$(BIN) artifacts/bench-smoke --smoke
