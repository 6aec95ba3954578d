# jvpn: the two commands a user needs are `make demo` and `make test`.
# Both install what is missing first (tools/deps.sh), so each works on a
# fresh Debian 12 machine as the only command.  The build itself is meson.

BUILD      ?= build
BUILD_SAN  ?= build-san
MESON_OPTS ?=

.PHONY: all deps build install test mutate demo docs fuzz fuzz-campaign bench clean

all: build

deps:
	@tools/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(BUILD_SAN)/build.ninja:
	meson setup $(BUILD_SAN) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Install the binary, the man pages, the systemd unit jvpn@.service, bash
# completion and the examples (meson install; nothing else, no test
# binary).  Honours DESTDIR (staging) and the prefix, given as PREFIX=/usr
# or MESON_OPTS=--prefix=/usr (also on an existing build directory):
#   make install DESTDIR=/tmp/stage PREFIX=/usr
install: build
	$(if $(strip $(PREFIX) $(MESON_OPTS)),meson configure $(BUILD) $(MESON_OPTS) $(if $(PREFIX),--prefix=$(PREFIX)) && ninja -C $(BUILD))
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir $(DESTDIR))

# Every test: the unit tests in a normal build and again under ASan+UBSan,
# then the scenario, fuzz and network layers as they exist.  Ends with
# "N passed, N failed".
test: deps $(BUILD)/build.ninja $(BUILD_SAN)/build.ninja
	@tools/test.sh $(BUILD) $(BUILD_SAN)

# The mutation run alone: every check listed in tests/mutants/*.txt broken
# on purpose, one at a time, must make a test fail (tools/mutate.sh; make
# test runs it too).  Ends with "mutants_killed=N/N".
mutate: deps build
	@tools/mutate.sh

demo: deps build
	@tools/demo.sh $(BUILD)

# Regenerate the documents that are derived from code tables.
docs: build
	$(BUILD)/src/cli/jvpn states --markdown > docs/state-machine.md
	$(BUILD)/src/cli/jvpn events-doc > docs/events.md
	$(BUILD)/src/cli/jvpn policy-doc > docs/policy.md

# Longer fuzzing on demand: make fuzz FUZZ_SECONDS=600 (seconds per target).
# A campaign, RUNS executions per target, its finds merged into the corpus
# and its figures into tests/fuzz/campaign-results.txt (docs/security.md):
#   make fuzz RUNS=10000000 [TARGETS="event_line record"] [FUZZ_JOBS=2]
fuzz: deps
ifdef RUNS
	tools/fuzz-campaign.sh $(RUNS) $(TARGETS)
else
	tools/fuzz.sh $${FUZZ_SECONDS:-60} $(TARGETS)
endif

fuzz-campaign: deps
	tools/fuzz-campaign.sh $(or $(RUNS),10000000) $(TARGETS)

bench: build
	$(BUILD)/bench/core_bench

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz build-fuzz-fast
