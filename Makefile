# SPDX-License-Identifier: MIT
# Thin front door over CMake. `make demo` and `make check` are the two set-up
# commands of the README: both install the Debian packages they need first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
CLANG_BUILD ?= build-clang
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

DEB_PACKAGES = build-essential clang cmake pkg-config python3 \
	libjansson-dev libsqlite3-dev libutf8proc-dev libstemmer-dev \
	liblinear-dev libpcre2-dev libcmocka-dev libcsv-dev \
	libgmime-3.0-dev libglib2.0-dev libxml2-dev libcurl4-openssl-dev libidn2-dev \
	libmicrohttpd-dev libsodium-dev libmimalloc-dev wrk curl valgrind \
	chromium \
	dovecot-imapd python3-aiosmtpd spamassassin spamd rspamd \
	wamerican libtext-names-perl iso-codes tzdata

.PHONY: all deps build asan-build release-builds test check demo bench install clean web web-test web-e2e

all: build

# Install only what is missing, so a prepared machine does not touch apt.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan-build: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCA_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The optimised builds compile with GCC and clang, so -O3's extra warnings
# (maybe-uninitialized) and clang's (format-nonliteral) stay fixed; the
# suite itself runs in the two builds above.
release-builds: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(RELEASE_BUILD) -j $(JOBS)
	cmake -S . -B $(CLANG_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(CLANG_BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole gate: the suite, then the same suite under ASan+UBSan, the
# optimised builds with both compilers, and the web UI's component and
# end-to-end tests (Debian's chromium driving the built UI against a real
# `caseagent serve`).
check: build asan-build release-builds
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)
	$(MAKE) web-test web-e2e

# The browser UI (web/): Vue + TypeScript built by Vite into web/dist. Not
# part of `all`, so the C-only steps need no Node; `make check` builds it.
# npm ci installs exactly what web/package-lock.json pins. One make run
# builds it once however many web-* targets ask for it.
web: deps
	cd web && npm ci --no-audit --no-fund && npm run build

web-test: web
	cd web && npm test

web-e2e: build web
	tests/web/e2e.sh $(BUILD)/caseagent .

demo: build
	tools/demo.sh $(BUILD)/caseagent

bench: build web
	bench/run.sh $(BUILD)

# `make install PREFIX=/usr/local DESTDIR=/tmp/stage`: the command, the
# systemd unit (deploy/caseagent.service, paths for PREFIX) and the docs.
PREFIX ?= /usr/local
install: build
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(CLANG_BUILD) out
