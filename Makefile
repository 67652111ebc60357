# Two commands: `make run` and `make test`.  Both install what is missing
# (Debian packages, as root), configure with meson and build with ninja.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
SANITIZE   ?= 1
FUZZ       ?= 1
FUZZ_SECONDS ?= 600
SOAK_SECONDS ?= 600
SNAP       := $(BUILD)/rirmeter.snap
DATA        = $(sort $(wildcard data/rir/delegated-*)) $(sort $(wildcard data/iana/*.csv)) \
              data/nir-ids.csv $(wildcard /usr/share/libloc-location/location.db)
PKGS       := meson ninja-build pkg-config gcc libc6-dev python3 clang-format \
              libdpdk-dev dpdk libhyperscan-dev libjemalloc-dev libcmocka-dev \
              libcurl4-openssl-dev man-db libmicrohttpd-dev prometheus chromium \
              zlib1g-dev libzstd-dev zstd libloc-dev libloc-database location libmaxminddb-dev mmdb-bin \
              libmaxmind-db-writer-perl clickhouse-server clickhouse-client softflowd tcpdump \
              pmacct clang libclang-rt-14-dev tshark nfdump debhelper lintian dpkg-dev ipv6calc

.PHONY: all deps build run test deb bench fuzz soak format clean

all: build

deps:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make: run as root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror=true
	ninja -C $(BUILD)

SAMPLE := $(BUILD)/sample.pcap
EAL_RUN := --no-huge --no-pci --no-shconf -m 512 --log-level=error --lcores 0@0,1@1

# The main job: attribute a sample capture (generated from the bundled
# registry data) through DPDK's net_pcap and print the per-registry table.
run: build
	$(BUILD)/rirdb/rirdb build -o $(SNAP) $(DATA)
	python3 scripts/gen-pcap.py --out $(SAMPLE) --packets 5000 --kinds clean
	rm -f $(BUILD)/sample.jsonl # rirmeter appends
	$(BUILD)/dataplane/dpdk/rirmeter $(EAL_RUN) --vdev net_pcap0,rx_pcap=$(SAMPLE) -- \
	  --db $(SNAP) --json $(BUILD)/sample.jsonl --interval 0
	@echo "JSON Lines in $(BUILD)/sample.jsonl; one address: rirdb lookup -d $(SNAP) ADDR"
	$(BUILD)/rirdb/rirdb lookup -d $(SNAP) 193.0.6.139 2001:67c:2e8::1 AS3333

test: build
	SANITIZE=$(SANITIZE) FUZZ=$(FUZZ) scripts/run-tests $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# The Debian packages (debian/), built from a copy of the tree without the
# project's tests: $(BUILD)/deb/rirmeter_*.deb and rirdb_*.deb; install them
# with `apt-get install ./rirmeter_*.deb ./rirdb_*.deb` there.
deb: deps
	scripts/build-deb.sh $(BUILD)/deb

# Every libFuzzer harness for FUZZ_SECONDS (default 10 minutes), two at a
# time; `make test` runs the same suite for 10 s each (tests/fuzz/README.md).
fuzz: deps
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true \
	  -Dwerror=true -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
	  -Db_lundef=false -Djemalloc=disabled
	meson configure $(FUZZ_BUILD) -Dfuzz_seconds=$(FUZZ_SECONDS)
	ninja -C $(FUZZ_BUILD)
	meson test -C $(FUZZ_BUILD) --suite fuzz --num-processes 2 --print-errorlogs

# The soak test (perf/soak.py): SOAK_SECONDS, default 10 minutes.
soak: build
	perf/soak.py --seconds $(SOAK_SECONDS) --build $(BUILD)

# Benchmarks (perf/README.md); reserves huge pages when run as root.
bench: build
	@command -v dpdk-testpmd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpdk-dev
	$(BUILD)/rirdb/rirdb build -q -o $(SNAP) $(DATA)
	-[ "$$(id -u)" != 0 ] || perf/hugepages.sh
	$(BUILD)/perf/lookup_bench -d $(SNAP)
	BUILD=$(BUILD) perf/dataplane_bench.sh
	BUILD=$(BUILD) perf/batch_bench.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
