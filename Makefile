# Hen Backup — the two set-up commands: `make run` and `make test`.
SWIFT     ?= swift
CONFIG    ?= config.example.yml
BIN        = .build/debug/hen-backup
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pip installs moto_server for a non-root user into ~/.local/bin, which is not always on PATH.
export PATH := $(HOME)/.local/bin:$(PATH)
# What building and running need: restic (the engine we supervise), libcurl (HTTP hooks), SQLite (job store).
RUN_PACKAGES  = restic libcurl4-openssl-dev libsqlite3-dev pkg-config ca-certificates
# What the tests need on top: rclone (a real REST server), python3 + pip (moto's S3 server, test HTTP server), openssl (TLS certificates),
# sqlite3 (breaks a job store on purpose), prometheus (its promtool lints /metrics), curl (reads /metrics),
# borgbackup and rsync (the engines behind the borg and rsync plugins).
TEST_PACKAGES = $(RUN_PACKAGES) borgbackup rsync rclone python3 python3-pip openssl tar gzip sqlite3 prometheus curl

.PHONY: run test build deps test-deps clean help

help:
	@echo "make run   - install what is missing, build, and start the daemon on $(CONFIG)"
	@echo "make test  - install what the tests need and run the whole suite"

deps:
	@./scripts/apt-install $(RUN_PACKAGES)

test-deps:
	@./scripts/apt-install $(TEST_PACKAGES)
	@command -v moto_server >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]' \
		|| python3 -m pip install --quiet --break-system-packages 'moto[server]'

build: deps
	$(SWIFT) build

# The demo: back up ./demo-data into a restic repository under ./.hen/, with a password made on first run.
.hen/password:
	@mkdir -p .hen && umask 077 && head -c 32 /dev/urandom | base64 > $@
	@echo "Created a random repository password in $@ (keep it: without it the demo repository cannot be read)."

run: build .hen/password
	$(BIN) config check --config $(CONFIG)
	exec $(BIN) daemon --config $(CONFIG)

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build .hen
