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

# Layers, bottom up; each is an archive with its own include path and
# compiler flags, and sees only the layers below it (scripts/check-layers.py
# checks the sources; the flags make an upward include fail to compile):
#   image/     the process image: ELF core, module files, symbols, DWARF
#   pyheap/    the CPython model, reading memory through image/
#   graph/     dense ids, CSR edges, paths, dominators, Graphviz (no libelf,
#              no CPython)
#   analyzer/  analyses and the command line
IMAGE_PKGS := libelf libdw libzstd liblz4 liblzma
GRAPH_PKGS := libcgraph libgvc
CHECK_PKG  := check

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP

# On a machine without the libraries, say so once (`make deps` and `make
# demo` install them; pkg-config is asked quietly until they have).
PKGS_FOUND := $(shell $(PKG_CONFIG) --exists $(IMAGE_PKGS) $(GRAPH_PKGS) 2>/dev/null && echo yes)
ifeq ($(PKGS_FOUND),)
ifeq ($(filter deps demo clean,$(MAKECMDGOALS)),)
$(error pkg-config finds no $(IMAGE_PKGS) $(GRAPH_PKGS): run `make deps` (scripts/install-deps.sh) first)
endif
endif

IMAGE_CFLAGS    := -Iimage $(shell $(PKG_CONFIG) --cflags $(IMAGE_PKGS) 2>/dev/null)
PYHEAP_CFLAGS   := -Iimage -Ipyheap
GRAPH_CFLAGS    := -Igraph $(shell $(PKG_CONFIG) --cflags $(GRAPH_PKGS) 2>/dev/null)
ANALYZER_CFLAGS := -Iimage -Ipyheap -Igraph -Ianalyzer

IMAGE_LIBS := $(shell $(PKG_CONFIG) --libs $(IMAGE_PKGS) 2>/dev/null) -lz
GRAPH_LIBS := $(shell $(PKG_CONFIG) --libs $(GRAPH_PKGS) 2>/dev/null)
LDLIBS     += -lm -pthread

ifneq ($(SANITIZER),)
CFLAGS  += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all -O1
LDFLAGS += -fsanitize=$(SANITIZER)
endif

LAYERS   := image pyheap graph analyzer
MAIN_SRC := analyzer/main.c
IMAGE_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard image/*.c))
PYHEAP_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard pyheap/*.c))
GRAPH_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard graph/*.c))
ANALYZER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(MAIN_SRC),$(wildcard analyzer/*.c)))
LIB_OBJ      := $(IMAGE_OBJ) $(PYHEAP_OBJ) $(GRAPH_OBJ) $(ANALYZER_OBJ)

# Archives in link order (a layer before the layers it uses).
LIB_IMAGE    := $(BUILD)/libimage.a
LIB_PYHEAP   := $(BUILD)/libpyheap.a
LIB_GRAPH    := $(BUILD)/libgraph.a
LIB_ANALYZER := $(BUILD)/libanalyzer.a
ALL_LIBS     := $(LIB_ANALYZER) $(LIB_GRAPH) $(LIB_PYHEAP) $(LIB_IMAGE)
ALL_LDLIBS   := $(GRAPH_LIBS) $(IMAGE_LIBS) $(LDLIBS)

TEST_SRC := $(wildcard tests/check_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check check-unit check-layers check-san demo install deps clean bench

all: $(BUILD)/pyheap

$(BUILD)/obj/image/%.o: LAYER_CFLAGS := $(IMAGE_CFLAGS)
$(BUILD)/obj/pyheap/%.o: LAYER_CFLAGS := $(PYHEAP_CFLAGS)
$(BUILD)/obj/graph/%.o: LAYER_CFLAGS := $(GRAPH_CFLAGS)
$(BUILD)/obj/analyzer/%.o: LAYER_CFLAGS := $(ANALYZER_CFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LAYER_CFLAGS) -c $< -o $@

$(LIB_IMAGE): $(IMAGE_OBJ)
$(LIB_PYHEAP): $(PYHEAP_OBJ)
$(LIB_GRAPH): $(GRAPH_OBJ)
$(LIB_ANALYZER): $(ANALYZER_OBJ)
$(ALL_LIBS):
	@rm -f $@
	$(AR) rcs $@ $^

# The report's page (HTML, CSS, JS) as C strings, made at build time.
REPORT_SRC := analyzer/report/report.html analyzer/report/report.css analyzer/report/report.js
%/gen/report_template.h: $(REPORT_SRC) scripts/embed-text.awk
	@mkdir -p $(dir $@)
	awk -f scripts/embed-text.awk $(REPORT_SRC) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/analyzer/cmd_report.o: $(BUILD)/gen/report_template.h
$(BUILD)/obj/analyzer/cmd_report.o: LAYER_CFLAGS := $(ANALYZER_CFLAGS) -I$(BUILD)/gen

$(BUILD)/pyheap: $(BUILD)/obj/analyzer/main.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

# Each test and tool links only the layers it includes: check_graph and
# bench_graph see graph/ alone, built and linked without libelf or libdw.
GRAPH_ONLY := check_graph bench_graph
$(BUILD)/tests/check_graph $(BUILD)/tools/bench_graph: TEST_CFLAGS := $(GRAPH_CFLAGS)
$(BUILD)/tests/check_graph $(BUILD)/tools/bench_graph: TEST_LIBS := $(LIB_GRAPH) $(GRAPH_LIBS) $(LDLIBS)
$(BUILD)/tests/%: TEST_CFLAGS ?= $(ANALYZER_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(IMAGE_PKGS) $(GRAPH_PKGS) 2>/dev/null)
$(BUILD)/tests/%: TEST_LIBS ?= $(ALL_LIBS) $(ALL_LDLIBS)
$(BUILD)/tools/%: TEST_CFLAGS ?= $(ANALYZER_CFLAGS)
$(BUILD)/tools/%: TEST_LIBS ?= $(ALL_LIBS) $(ALL_LDLIBS)

$(BUILD)/tests/%: tests/%.c $(ALL_LIBS) tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itests $(shell $(PKG_CONFIG) --cflags $(CHECK_PKG)) \
		$(LDFLAGS) -o $@ $< $(TEST_LIBS) $(shell $(PKG_CONFIG) --libs $(CHECK_PKG))

$(BUILD)/tools/%: tests/tools/%.c $(ALL_LIBS) $(wildcard tests/tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS)

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
			grep -E ':[FE]:|^SKIP|Checks: |^== RESULT .*FAIL|^FAIL|runtime error:|Sanitizer' \
				$(BUILD)/tmp/$$n.log | head -40 | sed "s|^|$$n: |"; \
		done; exit 1; \
	fi

check-san:
	$(MAKE) BUILD=build-san SANITIZER=address,undefined check-unit

# The layers: no upward include, libelf/libdw only in image/, Graphviz only
# in graph/, no printing or exiting below the command files.
check-layers: $(ALL_LIBS)
	python3 scripts/check-layers.py --self-test
	python3 scripts/check-layers.py --nm $(BUILD)

# Both passes run even when the first fails (a failing real-core check must
# not hide a sanitizer report); make check fails if either did.
check: check-layers
	@rc=0; $(MAKE) check-unit || rc=1; $(MAKE) check-san || rc=1; \
	if [ $$rc != 0 ]; then echo "== make check FAILED (the failing suites are listed above, per pass)"; fi; \
	exit $$rc

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
