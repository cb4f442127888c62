# mk/fuzz.mk - libFuzzer targets for hostile cores (see fuzz/README).
#
#   make fuzz                      seeds, build, then run every target
#   make fuzz FUZZ_SECONDS=300     seconds per target run (default 60)
#   make fuzz-build                only build build-fuzz/fuzz_core, build-fuzz/fuzz_heap
#   make fuzz-seeds                only (re)make the seed cores and corpora
#
# fuzz_core: the process image (ELF header, program headers, notes, NT_FILE,
#   the segment map, reads), fed whole files; seeds are the synthetic cores
#   of fixtures/synth and the headers+notes of real cores.
# fuzz_heap: the heap walk (arenas, pools, GC lists, objects), fed patch
#   lists applied to the writable PT_LOAD segments of a real core made by
#   fuzz/make-seeds.sh on this machine (its interpreters must be on disk).
#
# Findings land in build-fuzz/artifacts/; each one becomes a regression
# input under tests/hostile/ (see tests/hostile/README).

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -Iimage -Ipyheap -Igraph -Ianalyzer \
		$(shell $(PKG_CONFIG) --cflags $(IMAGE_PKGS) $(GRAPH_PKGS) 2>/dev/null) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-DFUZZ_SRC='"$(CURDIR)"'
FUZZ_LDLIBS  := $(ALL_LDLIBS)
FUZZ_LIB_SRC := $(filter-out analyzer/main.c,$(wildcard image/*.c pyheap/*.c graph/*.c analyzer/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_TARGETS := fuzz_core fuzz_heap
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_ENV     := env -u DEBUGINFOD_URLS ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_OPTS    := -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=4096 \
		-print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-seeds

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# the report's page, as for build/
$(FUZZ_BUILD)/obj/analyzer/cmd_report.o: $(FUZZ_BUILD)/gen/report_template.h
$(FUZZ_BUILD)/obj/analyzer/cmd_report.o: FUZZ_CFLAGS += -I$(FUZZ_BUILD)/gen

# an archive, as for build/pyheap: only what the targets use is linked
$(FUZZ_BUILD)/libpyheap-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: fuzz/%.c fuzz/fuzzutil.h tests/tools/totalscmp.h $(FUZZ_BUILD)/libpyheap-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libpyheap-fuzz.a $(FUZZ_LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-seeds:
	sh fuzz/make-seeds.sh $(FUZZ_BUILD)

fuzz: fuzz-build
	@test -d $(FUZZ_BUILD)/corpus/core || sh fuzz/make-seeds.sh $(FUZZ_BUILD)
	@mkdir -p $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/logs
	cd $(FUZZ_BUILD) && $(FUZZ_ENV) ./fuzz_core $(FUZZ_OPTS) -max_len=65536 \
		-artifact_prefix=artifacts/core- corpus/core
	@set -e; for c in $(FUZZ_BUILD)/seeds/heap-*.core; do \
		[ -f "$$c" ] || { echo "fuzz: no seed core in $(FUZZ_BUILD)/seeds"; continue; }; \
		n=$$(basename $$c .core); mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
		cp -n $(FUZZ_BUILD)/corpus/heap/* $(FUZZ_BUILD)/corpus/$$n/ 2>/dev/null || true; \
		echo "== fuzz_heap on $$c"; \
		(cd $(FUZZ_BUILD) && FUZZ_HEAP_CORE=$(abspath $(FUZZ_BUILD))/seeds/$$n.core $(FUZZ_ENV) \
			./fuzz_heap $(FUZZ_OPTS) -max_len=4096 -artifact_prefix=artifacts/$$n- corpus/$$n); \
	done

-include $(FUZZ_LIB_OBJ:.o=.d)
