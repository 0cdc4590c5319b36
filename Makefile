# Hen Backup — the two set-up commands: `make run` and `make test`; `make release` and `make test-image` ship it.
SWIFT     ?= swift
CONFIG    ?= config.example.yml
BIN        = .build/debug/hen-backup
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pip installs moto_server for a non-root user into ~/.local/bin, which is not always on PATH.
export PATH := $(HOME)/.local/bin:$(PATH)
# What building and running need: restic (the engine we supervise), libcurl (HTTP hooks), SQLite (job store).
RUN_PACKAGES  = restic libcurl4-openssl-dev libsqlite3-dev pkg-config ca-certificates
# What the tests need on top: rclone (a real REST server), python3 + pip (moto's S3 server, schemathesis, test HTTP server), openssl (TLS certificates),
# sqlite3 (breaks a job store on purpose), prometheus (its promtool lints /metrics), curl (reads /metrics),
# chromium and its chromedriver (the web UI's tests in a real browser, with selenium from PyPI),
# postgresql (the database case: a cluster of the test's own, pg_dump behind examples/pg-dump-service),
# systemd (systemd-analyze verifies packaging/hen-backup.service),
# borgbackup and rsync (the engines behind the borg and rsync plugins), openssh-client and -server (an sshd
# of the test's own on 127.0.0.1 for the rsync plugin's remote repositories; /run/sshd is its directory).
TEST_PACKAGES = $(RUN_PACKAGES) borgbackup rsync openssh-client openssh-server rclone python3 python3-pip openssl tar gzip sqlite3 prometheus curl chromium chromium-driver postgresql systemd

# The release tree: bin/hen-backup (Swift's standard library linked in), the resources beside it, and
# plugins/hen-plugin-borg and plugins/hen-plugin-rsync. The Dockerfile copies it whole into /opt/hen-backup.
DIST      = .build/dist/hen-backup
# What the image test needs: podman with Debian's runc, and debootstrap for a base image made here.
IMAGE_TEST_PACKAGES = podman runc debootstrap curl

.PHONY: run test build deps test-deps clean help release test-image screenshots

help:
	@echo "make run        - install what is missing, build, and start the daemon on $(CONFIG)"
	@echo "make test       - install what the tests need and run the whole suite"
	@echo "make release    - build $(DIST) (release, static Swift standard library, with the plugins)"
	@echo "make test-image - build the container image with podman from the release tree and test it"
	@echo "make screenshots - run the web UI's browser tests and refresh docs/screenshots/ with theirs"

deps:
	@./scripts/apt-install $(RUN_PACKAGES)

test-deps:
	@./scripts/apt-install $(TEST_PACKAGES)
	@[ -d /run/sshd ] || $(SUDO) install -d -m 0755 /run/sshd
	@command -v moto_server >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]' \
		|| python3 -m pip install --quiet --break-system-packages 'moto[server]'
	@python3 -c 'import selenium' 2>/dev/null || python3 -m pip install --quiet selenium \
		|| python3 -m pip install --quiet --break-system-packages selenium
	@command -v schemathesis >/dev/null 2>&1 || python3 -m pip install --quiet schemathesis \
		|| python3 -m pip install --quiet --break-system-packages schemathesis

build: deps
	$(SWIFT) build

# The demo: back up ./demo-data into a restic repository under ./.hen/, with a password made on first run.
.hen/password:
	@mkdir -p .hen && umask 077 && head -c 32 /dev/urandom | base64 > $@
	@echo "Created a random repository password in $@ (keep it: without it the demo repository cannot be read)."

run: build .hen/password
	$(BIN) config check --config $(CONFIG)
	exec $(BIN) daemon --config $(CONFIG)

# The web UI's browser tests run after the Swift suite, against the daemon binary it built (under 3 minutes).
# Their screenshots go to .build/screenshots/: a test run leaves the checkout as it was (`make screenshots`
# refreshes the README's, in docs/screenshots/). SE_OFFLINE keeps Selenium Manager from downloading a driver.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	SE_OFFLINE=true python3 Tests/WebUI/browser_test.py --binary $(BIN) --screenshots .build/screenshots

screenshots: test-deps build
	SE_OFFLINE=true python3 Tests/WebUI/browser_test.py --binary $(BIN) --screenshots docs/screenshots

# Runs on Debian 12 with restic, libcurl and SQLite installed and no Swift toolchain (borgbackup and rsync
# for the plugins). The version comes from `git describe` (or HEN_VERSION), written in by Plugins/HenVersionPlugin.
# The driver plugins we ship go to plugins/ beside bin/, where PluginDiscovery looks (bin/../plugins).
# RELEASE_SCRATCH: another build directory lets a release build run beside a debug one.
RELEASE_SCRATCH ?= .build
PLUGINS = borg rsync
release: deps
	$(SWIFT) build -c release --static-swift-stdlib -Xlinker -s --product hen-backup --scratch-path $(RELEASE_SCRATCH)
	for plugin in $(PLUGINS); do \
		$(SWIFT) build -c release --static-swift-stdlib -Xlinker -s --product hen-plugin-$$plugin --scratch-path $(RELEASE_SCRATCH) || exit 1; \
	done
	rm -rf $(DIST) && mkdir -p $(DIST)/bin $(DIST)/plugins
	bin="$$($(SWIFT) build -c release --scratch-path $(RELEASE_SCRATCH) --show-bin-path)" && \
		install -m 0755 "$$bin/hen-backup" $(DIST)/bin/hen-backup && \
		cp -R "$$bin/hen-backup_HenServer.resources" $(DIST)/bin/ && \
		for plugin in $(PLUGINS); do install -m 0755 "$$bin/hen-plugin-$$plugin" $(DIST)/plugins/ || exit 1; done
	@echo "$(DIST): hen-backup $$($(DIST)/bin/hen-backup --version), plugins $(PLUGINS), $$(du -sh $(DIST) | cut -f1)"

test-image: release
	@./scripts/apt-install $(IMAGE_TEST_PACKAGES)
	./scripts/test-image $(DIST)

clean:
	rm -rf .build .hen
