# pyheap - post-mortem heap analysis of CPython core dumps.
#
#   make              build build/pyheap
#   make check        unit + integration tests, then the same under ASan/UBSan
#   make demo         install deps, build, core a leaky program, analyse it
#   make install      PREFIX=/usr/local DESTDIR=
#   make SANITIZER=address,undefined BUILD=build-san ...

PKG_CONFIG ?= pkg-config
CC         ?= cc
BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
SANITIZER  ?=

PKGS      := libelf libdw libcgraph libgvc
CHECK_PKG := check

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP -Ianalyzer -Ipyheap -Igraph
CFLAGS   += $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS   += $(shell $(PKG_CONFIG) --libs $(PKGS)) -lz -lm -pthread

ifneq ($(SANITIZER),)
CFLAGS  += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all -O1
LDFLAGS += -fsanitize=$(SANITIZER)
endif

MAIN_SRC := analyzer/main.c
LIB_SRC  := $(filter-out $(MAIN_SRC),$(wildcard analyzer/*.c pyheap/*.c graph/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check check-unit check-integration check-san demo install deps clean bench

all: $(BUILD)/pyheap

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libpyheap.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/pyheap: $(BUILD)/obj/analyzer/main.o $(BUILD)/libpyheap.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libpyheap.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(shell $(PKG_CONFIG) --cflags $(CHECK_PKG)) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libpyheap.a $(LDLIBS) $(shell $(PKG_CONFIG) --libs $(CHECK_PKG))

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libpyheap.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpyheap.a $(LDLIBS)

# Tests find the binary, the sources and the scratch dir through the environment.
TEST_ENV := PYHEAP=$(abspath $(BUILD)/pyheap) PYHEAP_SRC=$(CURDIR) \
	    PYHEAP_TMP=$(abspath $(BUILD))/tmp PYHEAP_TOOLS=$(abspath $(BUILD))/tools \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

check-unit: $(BUILD)/pyheap $(TEST_BIN) $(TOOL_BIN)
	@mkdir -p $(BUILD)/tmp
	@failed=; for t in $(TEST_BIN); do \
		n=$${t##*/}; echo "== $$t"; \
		{ $(TEST_ENV) CK_FORK=yes $$t; echo $$? >$(BUILD)/tmp/$$n.rc; } 2>&1 \
			| tee $(BUILD)/tmp/$$n.log; \
		[ "$$(cat $(BUILD)/tmp/$$n.rc)" = 0 ] || failed="$$failed $$n"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "== FAILED in $(BUILD):$$failed"; \
		for n in $$failed; do \
			grep -E ':[FE]:|^SKIP|Checks: ' $(BUILD)/tmp/$$n.log | sed "s|^|$$n: |"; \
		done; exit 1; \
	fi

check-san:
	$(MAKE) BUILD=build-san SANITIZER=address,undefined check-unit

check: check-unit
	$(MAKE) check-san

demo:
	sh scripts/install-deps.sh
	$(MAKE) all
	sh scripts/demo.sh $(BUILD)/pyheap

install: $(BUILD)/pyheap
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/pyheap $(DESTDIR)$(PREFIX)/bin/pyheap
	install -m 644 doc/pyheap.1 $(DESTDIR)$(PREFIX)/share/man/man1/pyheap.1

deps:
	sh scripts/install-deps.sh

clean:
	rm -rf build build-san

# Targets of their own (fuzzing, benchmarks) live in mk/*.mk.
-include mk/*.mk

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/analyzer/main.d
