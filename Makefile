# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# txcancel: one tree, one Makefile, every output under $(BUILD).
#
#   make            build everything (warnings are errors)
#   make deps       install the Debian packages the build, tests and demo need
#   make check      deps + build + every test, then the same daemon, library and
#                   tool built with ASan+UBSan ($(BUILD)/asan) under test_proto,
#                   test_e2e and test_hostile, a short run of each fuzz target, and
#                   the kernel suites (CHECK_KERNEL_SUITES) in QEMU guests of Debian's
#                   kernels (CHECK_KERNELS); ends with "N passed, N failed"
#   make check-kernels  deps + build + every suite that exercises the kernel, in a
#                   QEMU guest of each of KERNELS (tests/vm/); one "N passed,
#                   N failed" line per kernel and one in total
#   make asan       only build the sanitized daemon, tool and tests in $(BUILD)/asan
#   make fuzz       build the libFuzzer targets (fuzz/) and run each for
#                   FUZZ_TIME seconds (default 600); new inputs go to
#                   $(BUILD)/fuzz/<target>.corpus, crashes to $(BUILD)/fuzz/
#   make corpus     regenerate the seed corpus tests/corpus/<target>/seed-*
#   make demo       deps + build + the datapath demo on a throwaway testbed
#   make bench      deps + build + every figure of the benchmarks (bench/run.sh)
#   make install    daemon, tool, library, headers, pkg-config file, man pages,
#                   bash and zsh completion and the systemd units under
#                   $(DESTDIR)$(PREFIX) (see dist/)
#   make clean      remove $(BUILD)
#
# Variables: V=1 shows full commands; VMLINUX_BTF=<file> takes kernel types
# from another BTF file; VMLINUX_H=<header> uses a ready vmlinux.h instead;
# SANITIZE=1 adds the sanitizer flags to every C build (make asan uses it with
# CC=$(SAN_CC)); FUZZ_TIME=<seconds> per target for make fuzz; FUZZ_RUNS=<n>
# executions per target for the short run of make check (default 200000);
# KERNELS="6.1 6.12 7.2 6.1-generic" the guests of make check-kernels,
# CHECK_KERNELS the guests of make check (empty: none), CHECK_KERNEL_SUITES
# the suites make check runs in them.

BUILD		?= build
PREFIX		?= /usr/local
# Where `make install` puts things; DESTDIR is prepended to each (staging).
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
UNITDIR		?= $(PREFIX)/lib/systemd/system
DOCDIR		?= $(PREFIX)/share/doc/txcancel
MANDIR		?= $(PREFIX)/share/man
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
VMLINUX_BTF	?= /sys/kernel/btf/vmlinux

ARCH		:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
		   -Iinclude -Idp -Idaemon -Icommon -I$(BUILD)
BPF_CFLAGS	:= -g -O2 --target=bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		   -Iinclude -Ibpf -I$(BUILD)
LDLIBS		:= -lxdp -lbpf -lelf -lz -lmnl

# Sanitizers: every report is fatal (the runs check for report files).
SAN_CC		?= clang
SAN_FLAGS	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer -g -O1
ifeq ($(SANITIZE),1)
CFLAGS		+= $(SAN_FLAGS)
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps check check-kernels demo bench install clean asan fuzz fuzz-build corpus

BPF_LIB_HDRS	:= $(wildcard bpf/lib/*.h) include/txcancel/abi.h
# The datapath library (dp/): loads, pins and attaches the programs and edits
# their maps, for the daemon, txcdp, the tests and the benchmarks.
DP_SRCS		:= $(wildcard dp/*.c)
DP_HDRS		:= $(wildcard dp/*.h)

# txcancel's qdisc (Linux 6.16+, CONFIG_NET_SCH_BPF) needs clang 18 or later:
# kptr type tags and may_goto.  Without one the rest builds and the daemon
# refuses tc+qdisc, saying why.
QDISC_CLANG	?= clang-19
ifneq ($(shell command -v $(QDISC_CLANG) 2>/dev/null),)
QDISC_SKEL	:= $(BUILD)/txcancel_qdisc.skel.h
else
QDISC_SKEL	:=
CFLAGS		+= -DTXC_NO_QDISC_OBJ
endif
DP_OBJS		:= $(DP_SRCS:%.c=$(BUILD)/%.o)
DP_LIB		:= $(BUILD)/libtxcdp.a

TEST_BPF	:= $(BUILD)/tests/helpers.bpf.o
TEST_SKEL	:= $(BUILD)/tests/helpers.skel.h
TEST_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
# Tests written in shell: $(BUILD)/tests/test_<name> runs tests/test_<name>.sh
# with the source and build directories, so tests/run.sh runs them as the others.
TEST_SCRIPTS	:= $(patsubst tests/%.sh,$(BUILD)/tests/%,$(wildcard tests/test_*.sh))

TOOL_BINS	:= $(BUILD)/tools/txcdp $(BUILD)/tools/txcancel-example \
		   $(BUILD)/tools/demo-client

# The protocol's tables and value checks (common/), one definition each,
# built into the library (hidden), the daemon and the tool.
PROTO_COMMON_SRCS := common/proto_table.c common/values.c common/tag_kinds.c
PROTO_COMMON_OBJS := $(PROTO_COMMON_SRCS:%.c=$(BUILD)/%.o)

# The daemon: every daemon/*.c.
DAEMON_SRCS	:= $(wildcard daemon/*.c)
DAEMON_OBJS	:= $(DAEMON_SRCS:%.c=$(BUILD)/%.o) $(PROTO_COMMON_OBJS)
DAEMON		:= $(BUILD)/txcanceld

# libtxcancel, the client library: static, shared (with soname) and pkg-config.
LIB_VERSION	:= 0.1.0
LIB_SONAME	:= libtxcancel.so.0
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(LIB_SRCS:%.c=$(BUILD)/%.o) $(PROTO_COMMON_OBJS)
LIB_HDRS	:= include/txcancel/abi.h include/txcancel/proto.h include/txcancel/txcancel.h
LIB_A		:= $(BUILD)/lib/libtxcancel.a
LIB_SO		:= $(BUILD)/lib/libtxcancel.so
LIB_PC		:= $(BUILD)/lib/txcancel.pc

# Man pages, generated from docs/<name>.md (the only source) by tools/md2man.sh.
MAN_PAGES	:= $(BUILD)/man/txcancel.8 $(BUILD)/man/txcanceld.8 \
		   $(BUILD)/man/txcancel.conf.5 $(BUILD)/man/libtxcancel.3

# The one frame builder (common/frame.c): the tool's explain, the tests, the benchmarks.
FRAME_OBJ	:= $(BUILD)/common/frame.o

# Benchmarks: every bench/*.c but the shared benchlib.c is a program of its own.
BENCH_SRCS	:= $(filter-out bench/benchlib.c,$(wildcard bench/*.c))
BENCH_BINS	:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
BENCH_DEPS	:= $(BUILD)/bench/benchlib.o $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
		   $(BUILD)/tests/daemon_fixture.o $(FRAME_OBJ) $(LIB_A) $(DP_LIB)
# A program too long for one file keeps its main() in bench/<name>.c and its
# other parts in bench/<name>/*.c, linked into that program only.
bench_parts	= $(patsubst bench/%.c,$(BUILD)/bench/parts/%.o,$(wildcard bench/$(1)/*.c))

# The txcancel command-line tool: tools/txcancel.c and its tools/txcancel_*.c parts.
CLI_SRCS	:= $(wildcard tools/txcancel.c tools/txcancel_*.c)
CLI_OBJS	:= $(CLI_SRCS:%.c=$(BUILD)/%.o) $(FRAME_OBJ)
CLI		:= $(BUILD)/txcancel

all: $(BUILD)/txcancel.bpf.o $(BUILD)/txcancel.skel.h $(QDISC_SKEL) $(DP_LIB) $(DAEMON) \
     $(LIB_A) $(LIB_SO) $(LIB_PC) $(CLI) $(TEST_BINS) $(TEST_SCRIPTS) $(TOOL_BINS) $(BENCH_BINS) \
     $(MAN_PAGES)

# Kernel types for the BPF programs come from the running kernel's BTF.
ifdef VMLINUX_H
$(BUILD)/vmlinux.h: $(VMLINUX_H) | $(BUILD)
	$(Q)cp $< $@
else
$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)if [ ! -r "$(VMLINUX_BTF)" ]; then \
		echo "error: no kernel BTF at $(VMLINUX_BTF): the kernel needs CONFIG_DEBUG_INFO_BTF=y;" \
		     "or pass VMLINUX_BTF=<file with BTF> or VMLINUX_H=<vmlinux.h>" >&2; exit 1; fi
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	$(Q)test -s $@.tmp || { echo "error: bpftool wrote an empty vmlinux.h from $(VMLINUX_BTF)" >&2; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@
endif

$(BUILD) $(BUILD)/dp $(BUILD)/daemon $(BUILD)/common $(BUILD)/tests $(BUILD)/tools $(BUILD)/lib $(BUILD)/bench $(BUILD)/man:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_LIB_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/txcancel_qdisc.bpf.o: bpf/txcancel_qdisc.bpf.c $(BPF_LIB_HDRS) include/txcancel/qdisc_abi.h \
			      $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(QDISC_CLANG) $(BPF_CFLAGS) -mcpu=v3 -c $< -o $@

$(BUILD)/tests/%.bpf.o: tests/bpf/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<))) > $@.tmp
	$(Q)mv $@.tmp $@

$(BUILD)/dp/%.o: dp/%.c $(DP_HDRS) $(wildcard common/*.h) $(wildcard include/txcancel/*.h) \
		$(BUILD)/txcancel.skel.h $(QDISC_SKEL) | $(BUILD)/dp
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/daemon/%.o: daemon/%.c $(wildcard daemon/*.h) $(DP_HDRS) $(wildcard common/*.h) \
		    $(wildcard include/txcancel/*.h) $(BUILD)/txcancel.skel.h \
		    $(QDISC_SKEL) | $(BUILD)/daemon
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Made anew: ar keeps the members of files no longer in the library.  The
# common tables and checks go in with it, so whatever links the library
# (daemon, txcdp, tests, benchmarks) has them.
$(DP_LIB): $(DP_OBJS) $(PROTO_COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(DAEMON): $(DAEMON_OBJS) $(DP_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(DAEMON_OBJS) $(DP_LIB) -o $@ $(LDLIBS)

# Library objects are position independent: the same objects make both builds.
$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) $(wildcard common/*.h) $(LIB_HDRS) | $(BUILD)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -Ilib -c $< -o $@

# Position independent and hidden, as the library's own objects.
$(PROTO_COMMON_OBJS): $(BUILD)/common/%.o: common/%.c $(wildcard common/*.h) $(LIB_HDRS) \
		      | $(BUILD)/common
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) $^ -o $@.$(LIB_VERSION)
	$(Q)ln -sf $(notdir $@).$(LIB_VERSION) $(BUILD)/lib/$(LIB_SONAME)
	$(Q)ln -sf $(notdir $@).$(LIB_VERSION) $@

$(LIB_PC): lib/txcancel.pc.in | $(BUILD)/lib
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIB_VERSION)|' $< > $@

$(CLI): $(CLI_OBJS) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(CLI_OBJS) $(LIB_A) -o $@

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h) $(wildcard daemon/*.h) $(DP_HDRS) $(wildcard include/txcancel/*.h) $(TEST_SKEL) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(FRAME_OBJ): common/frame.c common/frame.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/test_datapath: $(BUILD)/tests/testlib.o $(BUILD)/tests/pkt.o $(FRAME_OBJ) $(DP_LIB)
$(BUILD)/tests/test_netns: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o $(DP_LIB)
$(BUILD)/tests/test_nic: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o $(DP_LIB)
$(BUILD)/tests/test_linkwatch: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			       $(BUILD)/daemon/linkwatch.o $(DP_LIB)
# test_proto's parts (tests/proto/), linked into the one program.
PROTO_TEST_OBJS	:= $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(wildcard tests/proto/*.c))
$(PROTO_TEST_OBJS): $(BUILD)/tests/proto/%.o: tests/proto/%.c tests/proto/proto_test.h \
		    $(wildcard tests/*.h) $(wildcard include/txcancel/*.h) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@
$(BUILD)/tests/test_proto: $(BUILD)/tests/testlib.o $(BUILD)/tests/daemon_fixture.o \
			   $(BUILD)/tests/proto_peer.o $(PROTO_TEST_OBJS) $(FRAME_OBJ) $(LIB_A)
$(BUILD)/tests/test_hostile: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			     $(BUILD)/tests/daemon_fixture.o $(BUILD)/tests/proto_peer.o \
			     $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_e2e: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			 $(BUILD)/tests/daemon_fixture.o $(BUILD)/tests/forked_client.o \
			 $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_subscriptions: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
				   $(BUILD)/tests/daemon_fixture.o $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_bench: $(BUILD)/tests/testlib.o
$(BUILD)/tests/test_flood: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			   $(BUILD)/tests/daemon_fixture.o $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_churn: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			   $(BUILD)/tests/daemon_fixture.o $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_qdisc: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			   $(BUILD)/tests/daemon_fixture.o $(LIB_A) $(DP_LIB)
$(BUILD)/tests/test_privs: $(BUILD)/tests/testlib.o $(BUILD)/tests/netns.o \
			   $(BUILD)/tests/daemon_fixture.o $(LIB_A) $(DP_LIB)
$(TEST_SCRIPTS): $(BUILD)/tests/%: tests/%.sh | $(BUILD)/tests
	$(call msg,GEN,$@)
	$(Q)printf '#!/bin/sh\nexec sh "%s" "%s" "%s" "$$@"\n' "$(CURDIR)/$<" "$(CURDIR)" \
		"$(abspath $(BUILD))" > $@
	$(Q)chmod +x $@

$(BUILD)/tests/test_dp_errors: $(BUILD)/tests/testlib.o $(BUILD)/tests/daemon_fixture.o $(LIB_A)
$(BUILD)/tests/test_cli: $(BUILD)/tests/testlib.o $(BUILD)/tests/daemon_fixture.o \
			 $(BUILD)/tools/txcancel_parse.o $(BUILD)/tools/txcancel_json.o $(LIB_A)
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(filter %.a,$^) -o $@ $(LDLIBS)

$(BUILD)/tools/%.o: tools/%.c $(wildcard tools/*.h) $(wildcard daemon/*.h) $(DP_HDRS) $(wildcard common/*.h) \
		   $(wildcard include/txcancel/*.h) $(TEST_SKEL) | $(BUILD)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/tests -c $< -o $@

# Programs that use only the client library.
$(BUILD)/tools/txcancel-example: tools/example.c $(LIB_A) $(LIB_HDRS) | $(BUILD)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_A) -o $@

$(BUILD)/tools/demo-client: tools/demo_client.c $(LIB_A) $(LIB_HDRS) | $(BUILD)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_A) -o $@

$(BUILD)/tools/%: $(BUILD)/tools/%.o $(DP_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(filter %.a,$^) -o $@ $(LDLIBS) -lpthread

BENCH_HDRS	= $(wildcard bench/*.h) $(wildcard bench/*/*.h) $(wildcard tests/*.h) \
		  $(wildcard daemon/*.h) $(DP_HDRS) $(wildcard include/txcancel/*.h) $(TEST_SKEL)
$(BUILD)/bench/%.o: bench/%.c $(BENCH_HDRS) | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -Ibench -I$(BUILD)/tests -c $< -o $@

$(BUILD)/bench/parts/%.o: bench/%.c $(BENCH_HDRS) | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -Ibench -I$(BUILD)/tests -c $< -o $@

# Each program also links its parts, if it has any (bench_parts above).
$(foreach b,$(BENCH_BINS),$(eval $(b): $(call bench_parts,$(notdir $(b)))))
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_DEPS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(filter-out $<,$(filter %.o,$^)) $(filter %.a,$^) -o $@ \
		$(LDLIBS) -lpthread -lm

MD2MAN		= $(call msg,MAN,$@) sh tools/md2man.sh $< $(LIB_VERSION) $@
$(BUILD)/man/%.3: docs/%.md tools/md2man.sh | $(BUILD)/man
	$(Q)$(MD2MAN)
$(BUILD)/man/%.5: docs/%.md tools/md2man.sh | $(BUILD)/man
	$(Q)$(MD2MAN)
$(BUILD)/man/%.8: docs/%.md tools/md2man.sh | $(BUILD)/man
	$(Q)$(MD2MAN)

deps:
	$(Q)tools/deps.sh

# --- sanitizers and fuzzing ---------------------------------------------------

# The daemon, the tool and the tests that drive them, rebuilt with ASan+UBSan
# by clang into a build dir of their own; kernel types come from ours.
SAN_BUILD	:= $(BUILD)/asan
SAN_OUTPUTS	:= txcanceld txcancel tests/test_proto tests/test_e2e tests/test_hostile

asan: $(BUILD)/vmlinux.h
	$(Q)$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SANITIZE=1 CC=$(SAN_CC) \
		VMLINUX_H=$(BUILD)/vmlinux.h $(addprefix $(SAN_BUILD)/,$(SAN_OUTPUTS))

# libFuzzer targets: fuzz/fuzz_<target>.c with the code it exercises, built
# with coverage and ASan+UBSan; seeds and regression inputs in tests/corpus/<target>.
FUZZ_CC		?= clang
FUZZ_CFLAGS	:= -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
		   -Iinclude -Idp -Idaemon -Ilib -Icommon -g -O1 -fno-omit-frame-pointer \
		   -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS	:= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS	:= $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_TIME	?= 600
FUZZ_RUNS	?= 200000

$(BUILD)/fuzz $(BUILD)/fuzz/lib $(BUILD)/fuzz/daemon $(BUILD)/fuzz/common:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h) $(wildcard common/*.h) $(LIB_HDRS) | $(BUILD)/fuzz/lib
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/daemon/%.o: daemon/%.c $(wildcard daemon/*.h) $(wildcard common/*.h) \
			  $(wildcard include/txcancel/*.h) \
			  | $(BUILD)/fuzz/daemon
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/common/%.o: common/%.c $(wildcard common/*.h) $(LIB_HDRS) | $(BUILD)/fuzz/common
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_request: $(BUILD)/fuzz/daemon/proto_check.o \
			    $(PROTO_COMMON_SRCS:%.c=$(BUILD)/fuzz/%.o)
$(BUILD)/fuzz/fuzz_completions: $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o) \
				$(PROTO_COMMON_SRCS:%.c=$(BUILD)/fuzz/%.o)
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(wildcard include/txcancel/*.h) \
		      | $(BUILD)/fuzz
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(filter %.o,$^) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/fuzz.sh $(BUILD) -max_total_time=$(FUZZ_TIME)

# The seed corpus is checked in; this regenerates it from fuzz/gen_corpus.c.
$(BUILD)/fuzz/gen_corpus: fuzz/gen_corpus.c $(BUILD)/daemon/proto_check.o $(LIB_A) \
			  $(wildcard include/txcancel/*.h) | $(BUILD)/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ilib $< $(BUILD)/daemon/proto_check.o $(LIB_A) -o $@

corpus: $(BUILD)/fuzz/gen_corpus
	$(Q)rm -f tests/corpus/*/seed-*
	$(Q)$(BUILD)/fuzz/gen_corpus tests/corpus

# Debian kernels under QEMU (tests/vm/): cloud flavour with virtio-net NICs,
# the generic flavour (6.1-generic) with e1000e NICs for test_nic only.
KERNELS			?= 6.1 6.12 7.2 6.1-generic
CHECK_KERNELS		?= 6.1 6.12 7.2 6.1-generic
CHECK_KERNEL_SUITES	?= test_datapath test_netns test_e2e test_nic test_qdisc

check: deps
	$(Q)$(MAKE) --no-print-directory all asan fuzz-build
	$(Q)FUZZ_RUNS=$(FUZZ_RUNS) KERNELS="$(CHECK_KERNELS)" SUITES="$(CHECK_KERNEL_SUITES)" \
		tests/run.sh $(BUILD)

check-kernels: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)KERNELS="$(KERNELS)" tests/vm/matrix.sh $(BUILD)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh $(BUILD)

# Benchmarks measure and print; they never fail on a time.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/run.sh $(BUILD)

# The pkg-config file says $(PREFIX)/lib and $(PREFIX)/include: keep LIBDIR and
# INCLUDEDIR under PREFIX or edit it.  /etc/txcancel.conf is the admin's: the
# example goes to DOCDIR, and the unit does not start until the file exists.
install: $(DAEMON) $(CLI) $(LIB_A) $(LIB_SO) $(LIB_PC) $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/txcancel $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(Q)install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/txcanceld
	$(Q)install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/txcancel
	$(Q)install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 0755 $(LIB_SO).$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libtxcancel.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	$(Q)ln -sf libtxcancel.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/libtxcancel.so
	$(Q)install -m 0644 $(LIB_HDRS) $(DESTDIR)$(INCLUDEDIR)/txcancel/
	$(Q)install -m 0644 $(LIB_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|' dist/txcanceld.service > $(DESTDIR)$(UNITDIR)/txcanceld.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/txcanceld.service
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|' dist/txcancel-metrics.service \
		> $(DESTDIR)$(UNITDIR)/txcancel-metrics.service
	$(Q)install -m 0644 dist/txcancel-metrics.timer $(DESTDIR)$(UNITDIR)/
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/txcancel-metrics.service
	$(Q)install -m 0644 dist/txcancel.conf $(DESTDIR)$(DOCDIR)/txcancel.conf.example
	$(Q)install -D -m 0644 dist/txcancel.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/txcancel
	$(Q)install -D -m 0644 dist/_txcancel $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_txcancel
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(Q)for p in $(MAN_PAGES); do \
		install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/ || exit 1; done

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
