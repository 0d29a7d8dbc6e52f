# leakscope: eBPF leak tracer for running processes.
#
#   make            build build/leakscope and build/leakscope-static (one file to deploy)
#   make demo       install missing packages, build, trace the bundled leaking demo
#   make test       install missing packages, build, run the whole test suite
#   make bench      overhead benchmarks (ratios traced/untraced, ours/peer; installs
#                   redis, nginx, wrk and bpftrace to measure with; BENCH=NAME, BENCH_QUICK=1)
#   make deps       only install missing Debian packages (needs root)
#   make install    copy build/leakscope to $(PREFIX)/sbin
#   make fuzz       build the fuzz harnesses (clang), run each for FUZZ_SECONDS
#   make SANITIZE=1 [test]  leakscope and unit tests with ASan+UBSan, in build-asan/

PREFIX ?= /usr/local
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD := build-asan
else
BUILD := build
endif
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

# Debian packages the build, the demo and the tests need.
DEB_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev libdw-dev libcapstone-dev \
	bpftool gcc g++ make jq golang-1.19-go libjemalloc2 libtcmalloc-minimal4

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -I$(BUILD) -Iuser -I.
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# Built with clang: gcc links ASan and UBSan as two runtimes and UBSan's reports then
# ignore log_path (stderr only), which the log check of make test would miss.
ifeq ($(origin CC),default)
CC := $(CLANG)
endif
endif
LDLIBS := -lbpf -lelf -ldw -lz -lcapstone -lstdc++ -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ivmlinux -Ibpf -Wall -Wno-unused-function

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(BUILD)/leakscope.skel.h

# user/ and its folders by role (see README, "Where things are").
USER_DIRS := user user/lib user/elf user/golang user/target user/bpfio user/report user/sources
USER_SRCS := $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c))
USER_HDRS := $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.h))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
# Everything but main(), for unit tests.
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

.PHONY: all deps demo test unit bench soak install clean format fuzz fuzz-deps
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/leakscope

deps:
	@tools/deps.sh $(DEB_PKGS)

$(BUILD):
	@mkdir -p $(BUILD) $(BUILD)/unit $(BUILD)/bpf

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Every probe set linked into one object: one skeleton, one load, one stack store.
$(BUILD)/leakscope.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(BUILD)/leakscope.skel.h: $(BUILD)/leakscope.bpf.o
	$(BPFTOOL) gen skeleton $< name leakscope_bpf > $@

$(BUILD)/obj/%.o: user/%.c $(USER_HDRS) $(wildcard bpf/*.h) $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/leakscope: $(USER_OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# One file to deploy (README "Deploying: one file, sidecars, debug pods"): the same objects
# linked against Debian's .a files, no shared library and no interpreter, so it runs alone in
# an empty chroot or a FROM scratch image (tests/cases/onefile.sh). static-pie, not -static:
# the image keeps ASLR, it being a privileged parser of the target's files
# (STATIC_LDFLAGS=-static makes a classic static ELF). libdw.a needs liblzma and libbz2.
# glibc's static dlopen is linked only for iconv's modules (gconv), which leakscope never
# loads (it never calls setlocale): the link has no static-glibc warnings. No ASan build.
STATIC_LDFLAGS ?= -static-pie
STATIC_LDLIBS := -lbpf -ldw -lelf -lz -llzma -lbz2 -lcapstone -lstdc++ -lm -lpthread
DEB_PKGS += liblzma-dev libbz2-dev
ifneq ($(SANITIZE),1)
all: $(BUILD)/leakscope-static
endif

$(BUILD)/leakscope-static: $(USER_OBJS)
	$(CC) $(CFLAGS) $(STATIC_LDFLAGS) $^ $(STATIC_LDLIBS) -o $@

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

unit: $(UNIT_BINS)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

# With SANITIZE=1 a report halts the process that made it (the suite sees the failure) and
# is kept in $(BUILD)/sanitizer/, whose files fail the run at the end.
SAN_LOGS := $(abspath $(BUILD))/sanitizer
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$(SAN_LOGS)/asan \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan

test: deps
	@$(MAKE) --no-print-directory all unit
ifeq ($(SANITIZE),1)
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	@LEAKSCOPE_BUILD=$(abspath $(BUILD)) $(SAN_ENV) tests/run.sh; rc=$$?; \
	if [ -n "$$(ls $(SAN_LOGS))" ]; then \
		echo "sanitizer reports in $(SAN_LOGS):"; head -n 40 $(SAN_LOGS)/*; exit 1; fi; \
	exit $$rc
else
	@LEAKSCOPE_BUILD=$(abspath $(BUILD)) tests/run.sh
endif

# What make bench measures against and with: the peer (bpftrace), real servers and a
# load generator. make bench BENCH="redis nginx" runs only those; BENCH_QUICK=1 is short.
BENCH_PKGS := bpftrace redis-server redis-tools nginx-light wrk
BENCH ?=

bench: deps
	@tools/deps.sh $(BENCH_PKGS)
	@$(MAKE) --no-print-directory all
	@LEAKSCOPE_BUILD=$(abspath $(BUILD)) tests/bench/run.sh $(BENCH)

# Ten minutes against churning targets: leakscope's RSS and BPF memory over time.
soak: deps
	@$(MAKE) --no-print-directory all
	@tests/soak/run.sh

# Fuzzing (tests/fuzz/, README "Fuzzing and sanitizers"): every reader of untrusted input
# built with libFuzzer, ASan and UBSan; seeds cut from real binaries by tests/fuzz/seeds.sh.
FUZZ_SECONDS ?= 60
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS := $(wildcard user/elf/*.c) user/golang/pclntab.c user/golang/gobin.c \
	user/golang/offsets.c user/target/modfile.c user/target/maps.c user/target/proc.c \
	user/target/symbolize.c user/lib/util.c user/lib/hashmap.c user/lib/intern.c
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRCS))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iuser -I. -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined

$(FUZZ_DIR)/obj/%.o: user/%.c $(USER_HDRS) $(wildcard bpf/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# libFuzzer and the sanitizers' runtimes: Debian ships them apart from clang.
fuzz-deps: deps
	@tools/deps.sh libclang-rt-$$($(CLANG) -dumpversion | cut -d. -f1)-dev

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS) | fuzz-deps
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) -ldw -lelf -lz -lcapstone \
		-lstdc++ -o $@

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_HARNESSES))
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

install: $(BUILD)/leakscope
	install -D -m 0755 $< $(DESTDIR)$(PREFIX)/sbin/leakscope

format:
	clang-format -i $(USER_SRCS) $(USER_HDRS) bpf/*.c bpf/*.h

clean:
	rm -rf $(BUILD)
