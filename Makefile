# leakscope: eBPF leak tracer for running processes.
#
#   make            build build/leakscope
#   make demo       install missing packages, build, trace the bundled leaking demo
#   make test       install missing packages, build, run the whole test suite
#   make bench      overhead benchmarks (ratios traced/untraced, ours/peer)
#   make deps       only install missing Debian packages (needs root)
#   make install    copy build/leakscope to $(PREFIX)/sbin

PREFIX ?= /usr/local
BUILD := build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

# Debian packages the build, the demo and the tests need.
DEB_PKGS := clang llvm libbpf-dev libelf-dev zlib1g-dev libdw-dev libcapstone-dev \
	bpftool gcc g++ make jq golang-1.19-go

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -I$(BUILD) -Iuser -I.
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

.PHONY: all deps demo test unit bench soak install clean format
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

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

unit: $(UNIT_BINS)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

test: deps
	@$(MAKE) --no-print-directory all unit
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh

# Ten minutes against churning targets: leakscope's RSS and BPF memory over time.
soak: deps
	@$(MAKE) --no-print-directory all
	@tests/soak/run.sh

install: $(BUILD)/leakscope
	install -D -m 0755 $< $(DESTDIR)$(PREFIX)/sbin/leakscope

format:
	clang-format -i $(USER_SRCS) $(USER_HDRS) bpf/*.c bpf/*.h

clean:
	rm -rf $(BUILD)
