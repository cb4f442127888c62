# mk/bench.mk - `make bench`: pyheap on cores of about 1M, 5M and 20M objects.
#
#   make BUILD=build-bench bench      build (-O2), make the cores if missing, measure,
#                                     write BENCHMARKS.md
#   make bench BENCH_SIZES=1M,5M      fewer sizes
#   make bench BENCH_RUNS=9           runs per measurement (median; default 5)
#   make bench BENCH_ARGS=--capture-only   only the capture targets (.zst cores,
#                                     `dump`); the rest from BENCH_SAVE's last run
#   make bench BENCH_BASELINE=F.json  the before/after table against F (default:
#                                     bench/baseline.json, pyheap at 5777e30)
#                                     (one written by BENCH_SAVE=F.json)
#
# The cores (build/bench/SIZE/core, with live.json: what the live interpreter
# measured before it froze) are made once with CPython 3.11 ($(BENCH_INTERP))
# and gcore, and reused; delete build/bench/SIZE to make one again.  They take
# about 70 MB, 350 MB and 1.3 GB of disk.  Needs gdb (gcore), ptrace and GNU
# time (/usr/bin/time, Debian package "time").  See bench/run.py.

BENCH_PY       ?= python3
BENCH_INTERP   ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11.*/bin/python3.11) \
			  /root/.pyenv/versions/3.11.7/bin/python3.11)
BENCH_SIZES    ?= 1M,5M,20M
BENCH_RUNS     ?= 5
BENCH_OUT      ?= BENCHMARKS.md
BENCH_BASELINE ?= $(wildcard bench/baseline.json)
BENCH_SAVE     ?= build/bench/results.json
BENCH_NOTES    ?= bench/notes.txt
BENCH_ARGS     ?=

bench: $(BUILD)/pyheap
	@if [ -n "$(SANITIZER)" ]; then echo "bench: not with SANITIZER=$(SANITIZER)" >&2; exit 2; fi
	@mkdir -p build/bench
	$(BENCH_PY) bench/run.py --pyheap $(BUILD)/pyheap --interp $(BENCH_INTERP) \
		--sizes $(BENCH_SIZES) --runs $(BENCH_RUNS) --out $(BENCH_OUT) \
		--save $(BENCH_SAVE) --notes $(BENCH_NOTES) \
		$(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE)) $(BENCH_ARGS)
