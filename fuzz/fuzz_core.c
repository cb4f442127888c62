/*
 * fuzz_core.c - libFuzzer target for layer 1, the process image.
 *
 * The input is a whole core file: ELF header, program headers, notes
 * (NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_SIGINFO) and segments.
 * It is written to a memfd and opened with core_open(); then every accessor
 * runs, memory is read around each segment and module, a few symbols are
 * looked up, and the CPython layer is tried on top (ph_open, ph_scan), which
 * reads through the image what the core names.
 *
 * Seeds: the cores in fixtures/synth (module files found with --lib-path
 * fixtures/synth) and the headers+notes of real cores (fuzz/make-seeds.sh).
 */
#include "fuzzutil.h"

static int fd = -1;

static void read_around(core_t *c, uint64_t a)
{
	uint8_t buf[64];
	char s[64];
	uint64_t v;
	fz_use(core_read(c, a, buf, sizeof buf));
	fz_use(core_read(c, a - 8, buf, 16));
	fz_use((uint64_t)core_read_u64(c, a, &v));
	fz_use((uint64_t)core_read_u32(c, a + 4, (uint32_t *)buf));
	fz_use((uint64_t)core_read_str(c, a, s, sizeof s));
	fz_use(core_ptr(c, a, 8) != NULL);
	fz_use(core_segment_find(c, a) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const libs[] = {FUZZ_SRC "/fixtures/synth"};
	core_options o = {.lib_paths = libs, .n_lib_paths = 1};
	char path[64], err[512];
	core_t *c;

	if (fd < 0)
		fd = fz_memfd("fuzz-core");
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	fz_path(fd, path, sizeof path);
	if (core_open(&c, path, &o, err, sizeof err) < 0) {
		if (!memchr(err, 0, sizeof err))
			abort();
		return 0;
	}
	fz_use((uint64_t)core_pid(c) + (uint64_t)core_signal(c) + core_missing_bytes(c));
	fz_use_str(core_path(c));
	fz_use_str(core_exe(c));
	fz_use_str(core_cmdline(c));
	for (size_t i = 0; i < core_thread_count(c); i++)
		fz_use((uint64_t)core_thread_tid(c, i));
	fz_use(core_auxv(c, 31 /* AT_EXECFN */));
	uint64_t prev_end = 0;
	for (size_t i = 0; i < core_segment_count(c); i++) {
		const core_segment *s = core_segment_at(c, i);
		if (i && s->vaddr < prev_end)
			abort();	/* core.h promises sorted, non-overlapping segments */
		prev_end = s->vaddr + s->memsz;
		if (s->filesz > s->memsz)
			abort();
		if (s->filesz) {
			fz_use(s->data[0] + s->data[s->filesz - 1]);
		}
		fz_use_str(s->file);
		read_around(c, s->vaddr);
		read_around(c, s->vaddr + s->memsz - 4);
		read_around(c, s->vaddr + s->filesz);
		if (i > 64)
			break;
	}
	for (size_t i = 0; i < core_module_count(c); i++) {
		core_module_t *m = core_module_at(c, i);
		uint64_t a, sz;
		fz_use_str(core_module_name(m));
		fz_use_str(core_module_disk_path(m));
		fz_use(core_module_base(m) + core_module_bias(m));
		read_around(c, core_module_base(m));
		if (core_module_symbol(m, "_PyRuntime", &a, &sz) == 0)
			read_around(c, a);
		if (core_module_symbol(m, "synth_data", &a, &sz) == 0)
			read_around(c, a);
		if (core_module_section(m, ".data", &a, &sz) == 0)
			read_around(c, a + sz / 2);
		if (i > 16)
			break;
	}
	for (size_t i = 0; i < core_warning_count(c); i++)
		fz_use_str(core_warning(c, i));

	ph_options po = {.no_dwarf = 1};
	ph_heap *h;
	if (ph_open(&h, c, &po, err, sizeof err) == 0) {
		fz_touch_heap(h);
		if (ph_scan(h, NULL, NULL, err, sizeof err) == 0)
			fz_touch_objects(h);
		fz_touch_heap(h);
		ph_free(h);
	}
	core_free(c);
	return 0;
}
