/*
 * core.c - the process image: ELF core parsing, segment map, memory reads,
 * module discovery.  Symbols and DWARF live in core_dwarf.c.
 *
 * The core itself is parsed by hand from the mmap (<elf.h> structs): libelf's
 * handling of core segments has had bugs, and we need our own segment map
 * anyway.  Everything read from the core or a module file is untrusted:
 * offsets and sizes are checked before use and overflow-checked.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coreInt.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif

/* struct elf_prstatus / elf_prpsinfo field offsets on x86-64. */
#define PRSTATUS_CURSIG		12
#define PRSTATUS_PID		32
#define PRSTATUS_REG		112	/* x86-64 user_regs_struct: 27 words */
#define PRSTATUS_SIZE		336
#define PRPSINFO_PID		24
#define PRPSINFO_FNAME		40
#define PRPSINFO_PSARGS		56
#define PRPSINFO_SIZE		136

#define DEFAULT_PAGE		4096

/* ---- small helpers ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void core_warn(core_t *core, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (core->n_warns == core->cap_warns) {
		size_t ncap = core->cap_warns ? core->cap_warns * 2 : 8;
		char **nw;

		/* A hostile core could produce endless warnings; keep the first. */
		if (core->n_warns >= 1024)
			return;
		nw = realloc(core->warns, ncap * sizeof(*nw));
		if (!nw)
			return;
		core->warns = nw;
		core->cap_warns = ncap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		core->warns[core->n_warns++] = s;
}

/* Copies a possibly unterminated string of at most n bytes. */
static void copy_field(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < dstsz && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = '\0';
}

static const char *etype_name(unsigned t)
{
	switch (t) {
	case ET_NONE: return "NONE";
	case ET_REL: return "REL";
	case ET_EXEC: return "EXEC";
	case ET_DYN: return "DYN";
	case ET_CORE: return "CORE";
	}
	return NULL;
}

/*
 * Checks the ELF identification and returns the program header table's
 * location; messages name `path`.
 */
static int check_ehdr(const uint8_t *map, size_t size, const char *path,
		      Elf64_Ehdr *eh, uint64_t *phnum, char *err, size_t errlen)
{
	uint64_t n, end;

	if (size < SELFMAG || memcmp(map, ELFMAG, SELFMAG) != 0) {
		set_err(err, errlen, "%s: not an ELF file", path);
		return -1;
	}
	if (size < sizeof(*eh)) {
		set_err(err, errlen, "%s: truncated ELF header", path);
		return -1;
	}
	if (map[EI_CLASS] != ELFCLASS64) {
		set_err(err, errlen, "%s: not a 64-bit ELF file", path);
		return -1;
	}
	if (map[EI_DATA] != ELFDATA2LSB) {
		set_err(err, errlen, "%s: not a little-endian ELF file", path);
		return -1;
	}
	memcpy(eh, map, sizeof(*eh));
	if (eh->e_machine != EM_X86_64) {
		set_err(err, errlen, "%s: not an x86-64 ELF file (machine %u)",
			path, (unsigned)eh->e_machine);
		return -1;
	}
	n = eh->e_phnum;
	if (n == PN_XNUM) {
		/* The real count lives in section header 0's sh_info. */
		Elf64_Shdr sh;

		if (eh->e_shoff == 0 || eh->e_shoff > size ||
		    size - eh->e_shoff < sizeof(sh)) {
			set_err(err, errlen, "%s: bad program header count", path);
			return -1;
		}
		memcpy(&sh, map + eh->e_shoff, sizeof(sh));
		n = sh.sh_info;
	}
	if (n && eh->e_phentsize != sizeof(Elf64_Phdr)) {
		set_err(err, errlen, "%s: bad program header size %u", path,
			(unsigned)eh->e_phentsize);
		return -1;
	}
	/* n <= 2^32 and entsize is 56, so the product cannot overflow. */
	end = eh->e_phoff + n * sizeof(Elf64_Phdr);
	if (eh->e_phoff > size || end < eh->e_phoff || end > size) {
		set_err(err, errlen,
			"%s: program headers (%llu at offset %llu) beyond end of file (%zu bytes)",
			path, (unsigned long long)n,
			(unsigned long long)eh->e_phoff, size);
		return -1;
	}
	*phnum = n;
	return 0;
}

static void get_phdr(const uint8_t *map, const Elf64_Ehdr *eh, uint64_t i, Elf64_Phdr *ph)
{
	memcpy(ph, map + eh->e_phoff + i * sizeof(*ph), sizeof(*ph));
}

/* Maps a file read-only.  0, or -1 with errno set. */
static int map_file(const char *path, int *fdp, const uint8_t **mapp, size_t *sizep,
		    int *is_reg)
{
	struct stat st;
	void *m;
	int fd;

	*is_reg = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*is_reg = 1;
	if (st.st_size <= 0) {
		*fdp = fd;
		*mapp = NULL;
		*sizep = 0;
		return 0;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*fdp = fd;
	*mapp = m;
	*sizep = (size_t)st.st_size;
	return 0;
}

/* ---- notes ---- */

typedef void (*note_fn)(void *ctx, const char *name, size_t namesz,
			uint32_t type, const uint8_t *desc, size_t descsz);

/*
 * Walks the notes in [p, p+len).  Stops at the first malformed header; returns
 * the number of notes seen or -1 if the data ended inside a note.
 */
static long walk_notes(const uint8_t *p, size_t len, size_t max, note_fn fn, void *ctx)
{
	size_t off = 0;
	long n = 0;

	while (off < len && (size_t)n < max) {
		Elf64_Nhdr nh;
		uint64_t namesz, descsz, name_off, desc_off, next;

		if (len - off < sizeof(nh))
			return -1;
		memcpy(&nh, p + off, sizeof(nh));
		namesz = nh.n_namesz;
		descsz = nh.n_descsz;
		/* 32-bit fields in 64-bit arithmetic: no overflow possible. */
		name_off = off + sizeof(nh);
		desc_off = name_off + ((namesz + 3) & ~(uint64_t)3);
		next = desc_off + ((descsz + 3) & ~(uint64_t)3);
		if (desc_off > len || descsz > len - desc_off)
			return -1;
		fn(ctx, (const char *)p + name_off, (size_t)namesz, nh.n_type,
		   p + desc_off, (size_t)descsz);
		n++;
		if (next >= len)
			break;
		off = (size_t)next;
	}
	return n;
}

static int note_name_is(const char *name, size_t namesz, const char *want)
{
	size_t wl = strlen(want);

	/* namesz counts the NUL; tolerate its absence. */
	if (namesz == wl + 1)
		return memcmp(name, want, wl) == 0 && name[wl] == '\0';
	return namesz == wl && memcmp(name, want, wl) == 0;
}

static void add_tid(core_t *core, int tid, const uint8_t *regs)
{
	if (core->n_tids == core->cap_tids) {
		size_t ncap = core->cap_tids ? core->cap_tids * 2 : 8;
		int *nt;
		uint64_t *nr;

		if (core->n_tids >= CORE_MAX_THREADS)
			return;
		nt = realloc(core->tids, ncap * sizeof(*nt));
		if (!nt)
			return;
		core->tids = nt;
		nr = realloc(core->regs, ncap * CORE_NREGS * sizeof(*nr));
		if (!nr)
			return;
		core->regs = nr;
		core->cap_tids = ncap;
	}
	uint64_t *r = core->regs + core->n_tids * CORE_NREGS;
	for (int i = 0; i < CORE_NREGS; i++)
		r[i] = regs ? le64(regs + 8 * i) : 0;
	core->tids[core->n_tids++] = tid;
}

static void parse_nt_file(core_t *core, const uint8_t *d, size_t sz)
{
	uint64_t count, page, i, names_off;
	const uint8_t *s, *end;
	size_t nf = 0;

	if (core->files || sz < 16)
		return;
	count = le64(d);
	page = le64(d + 8);
	/* Each entry takes 24 bytes plus at least one byte of name. */
	if (count > (sz - 16) / 25) {
		core_warn(core, "%s: NT_FILE note claims %llu entries, too many for its size",
			  core->path, (unsigned long long)count);
		count = (sz - 16) / 25;
	}
	if (count == 0)
		return;
	names_off = 16 + count * 24;
	core->files = calloc(count, sizeof(*core->files));
	core->file_names = calloc(count, sizeof(char *));
	if (!core->files || !core->file_names)
		return;
	if (page == 0 || (page & (page - 1)) || page > (1u << 30))
		page = DEFAULT_PAGE;
	core->page_size = page;
	s = d + names_off;
	end = d + sz;
	for (i = 0; i < count && s < end; i++) {
		const uint8_t *e = memchr(s, 0, (size_t)(end - s));
		size_t l = e ? (size_t)(e - s) : (size_t)(end - s);
		uint64_t start = le64(d + 16 + i * 24);
		uint64_t stop = le64(d + 16 + i * 24 + 8);
		uint64_t pgofs = le64(d + 16 + i * 24 + 16);
		char *name = strndup((const char *)s, l);

		if (!name)
			break;
		core->file_names[core->n_file_names++] = name;
		s += l + 1;
		if (stop <= start || pgofs > UINT64_MAX / page)
			continue;
		core->files[nf].start = start;
		core->files[nf].end = stop;
		core->files[nf].offset = pgofs * page;
		core->files[nf].name = name;
		core->files[nf].module = -1;
		nf++;
	}
	core->n_files = nf;
}

static void core_note(void *ctx, const char *name, size_t namesz, uint32_t type,
		      const uint8_t *d, size_t sz)
{
	core_t *core = ctx;

	if (!note_name_is(name, namesz, "CORE"))
		return;
	switch (type) {
	case NT_PRSTATUS:
		if (sz < PRSTATUS_PID + 4)
			return;
		if (core->n_tids == 0) {
			int16_t sig;

			memcpy(&sig, d + PRSTATUS_CURSIG, 2);
			core->prstatus_sig = sig;
		}
		add_tid(core, (int)le32(d + PRSTATUS_PID),
			sz >= PRSTATUS_REG + 8 * CORE_NREGS ? d + PRSTATUS_REG : NULL);
		break;
	case NT_PRPSINFO:
		if (sz < PRPSINFO_SIZE)
			return;
		core->pid = (int)le32(d + PRPSINFO_PID);
		copy_field(core->fname, sizeof(core->fname), d + PRPSINFO_FNAME, 16);
		copy_field(core->cmdline, sizeof(core->cmdline), d + PRPSINFO_PSARGS, 80);
		break;
	case NT_SIGINFO:
		if (sz >= 4 && core->siginfo_sig < 0)
			core->siginfo_sig = (int)le32(d);
		break;
	case NT_AUXV:
		if (!core->auxv) {
			size_t n = sz / 16, i;

			if (n > CORE_MAX_AUXV)
				n = CORE_MAX_AUXV;
			core->auxv = calloc(n ? n : 1, 16);
			if (!core->auxv)
				return;
			for (i = 0; i < n; i++) {
				uint64_t t = le64(d + i * 16);

				if (t == AT_NULL)
					break;
				core->auxv[2 * i] = t;
				core->auxv[2 * i + 1] = le64(d + i * 16 + 8);
			}
			core->n_auxv = i;
		}
		break;
	case NT_FILE:
		parse_nt_file(core, d, sz);
		break;
	}
}

/* ---- segments ---- */

static int seg_cmp(const void *a, const void *b)
{
	const core_segment *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int file_cmp(const void *a, const void *b)
{
	const struct core_file_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Index of the last element with key <= addr, or -1. */
static long seg_floor(const core_t *core, uint64_t addr)
{
	size_t lo = 0, hi = core->n_segs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (core->segs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static long file_floor(const core_t *core, uint64_t addr)
{
	size_t lo = 0, hi = core->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (core->files[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static const struct core_file_map *file_find(const core_t *core, uint64_t addr)
{
	long i = file_floor(core, addr);

	if (i < 0 || addr >= core->files[i].end)
		return NULL;
	return &core->files[i];
}

static int load_segments(core_t *core, const Elf64_Ehdr *eh, uint64_t phnum)
{
	uint64_t i, promised = 0, nload = 0;
	size_t n = 0, out;

	for (i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		get_phdr(core->map, eh, i, &ph);
		if (ph.p_type == PT_LOAD)
			nload++;
	}
	if (nload > CORE_MAX_SEGMENTS)
		nload = CORE_MAX_SEGMENTS;
	core->segs = calloc(nload ? nload : 1, sizeof(*core->segs));
	core->seg_truncated = calloc(nload ? nload : 1, 1);
	if (!core->segs || !core->seg_truncated)
		return -1;
	for (i = 0; i < phnum && n < nload; i++) {
		Elf64_Phdr ph;
		core_segment *s;
		uint64_t avail, fsz;

		get_phdr(core->map, eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_memsz == 0)
			continue;
		if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
			core_warn(core, "%s: segment at 0x%llx wraps the address space, ignored",
				  core->path, (unsigned long long)ph.p_vaddr);
			continue;
		}
		fsz = min64(ph.p_filesz, ph.p_memsz);
		promised += fsz;
		avail = ph.p_offset >= core->size ? 0 : min64(fsz, core->size - ph.p_offset);
		s = &core->segs[n];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = avail;
		s->data = avail ? core->map + ph.p_offset : NULL;
		s->flags = ph.p_flags & (PF_R | PF_W | PF_X);
		if (avail < fsz) {
			core->missing += fsz - avail;
			core->seg_truncated[n] = 1;
		}
		n++;
	}
	/* Keep the truncation flags aligned with the segments while sorting. */
	{
		struct pair { core_segment s; uint8_t t; } *tmp = calloc(n ? n : 1, sizeof(*tmp));

		if (!tmp)
			return -1;
		for (i = 0; i < n; i++) {
			tmp[i].s = core->segs[i];
			tmp[i].t = core->seg_truncated[i];
		}
		qsort(tmp, n, sizeof(*tmp), seg_cmp);	/* s is the first member */
		/* Drop segments overlapping their predecessor: the API promises none. */
		out = 0;
		for (i = 0; i < n; i++) {
			if (out && tmp[i].s.vaddr < core->segs[out - 1].vaddr + core->segs[out - 1].memsz) {
				core_warn(core, "%s: segment at 0x%llx overlaps the previous one, ignored",
					  core->path, (unsigned long long)tmp[i].s.vaddr);
				continue;
			}
			core->segs[out] = tmp[i].s;
			core->seg_truncated[out] = tmp[i].t;
			out++;
		}
		free(tmp);
	}
	core->n_segs = out;
	if (core->missing)
		core_warn(core, "%s: truncated: %llu of %llu bytes of segment data missing",
			  core->path, (unsigned long long)core->missing,
			  (unsigned long long)promised);
	return 0;
}

static void load_notes(core_t *core, const Elf64_Ehdr *eh, uint64_t phnum)
{
	uint64_t i;
	size_t budget = CORE_MAX_NOTES;

	for (i = 0; i < phnum && budget; i++) {
		Elf64_Phdr ph;
		uint64_t len;
		long n;

		get_phdr(core->map, eh, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset >= core->size) {
			core_warn(core, "%s: note segment beyond end of file", core->path);
			continue;
		}
		len = min64(ph.p_filesz, core->size - ph.p_offset);
		n = walk_notes(core->map + ph.p_offset, (size_t)len, budget, core_note, core);
		if (n < 0)
			core_warn(core, "%s: malformed note segment (notes cut short)", core->path);
		else
			budget -= (size_t)n < budget ? (size_t)n : budget;
	}
}

/* Labels each segment with the NT_FILE mapping that backs it. */
static void label_segments(core_t *core)
{
	size_t i;

	for (i = 0; i < core->n_segs; i++) {
		const struct core_file_map *f = file_find(core, core->segs[i].vaddr);

		if (!f)
			continue;
		core->segs[i].file = f->name;
		core->segs[i].file_offset = f->offset + (core->segs[i].vaddr - f->start);
	}
}

/* ---- memory ---- */

/* Reads only from the core's segments; used for build-id checks. */
static size_t read_core_only(const core_t *core, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = addr + done, off;
		long i;
		size_t n;

		if (a < addr)
			break;
		i = seg_floor(core, a);
		if (i < 0)
			break;
		off = a - core->segs[i].vaddr;
		if (off >= core->segs[i].filesz)
			break;
		n = (size_t)min64(len - done, core->segs[i].filesz - off);
		memcpy((uint8_t *)buf + done, core->segs[i].data + off, n);
		done += n;
	}
	return done;
}

/*
 * Reads at addr from the module file backing it, at most len bytes.  Only
 * file-backed memory qualifies (addr must lie in an NT_FILE mapping of the
 * module).  A writable PT_LOAD is only trusted when the core did not lose the
 * segment to truncation: then the dumper left it out because it was never
 * written (the kernel dumps every private-dirty mapping), so the file is
 * accurate; after truncation the file would give stale data.
 */
static size_t read_module(const core_t *core, uint64_t a, uint8_t *buf, size_t len,
			  long seg)
{
	const struct core_file_map *f = file_find(core, a);
	const core_module_t *m;
	uint64_t rel, lim;
	size_t i;

	if (!f || f->module < 0)
		return 0;
	m = core->mods[f->module];
	if (!m->map || a < m->bias)
		return 0;
	rel = a - m->bias;
	lim = min64(len, f->end - a);
	for (i = 0; i < m->n_loads; i++) {
		const struct core_mod_load *l = &m->loads[i];
		uint64_t off, n;

		if (rel < l->vaddr || rel - l->vaddr >= l->memsz)
			continue;
		if ((l->flags & PF_W) && seg >= 0 && core->seg_truncated[seg])
			return 0;
		off = rel - l->vaddr;
		lim = min64(lim, l->memsz - off);
		if (off < l->filesz) {
			uint64_t fo = l->offset + off;

			if (fo >= m->map_size)
				return 0;
			n = min64(lim, min64(l->filesz - off, m->map_size - fo));
			memcpy(buf, m->map + fo, (size_t)n);
			return (size_t)n;
		}
		/* .bss: beyond p_filesz but inside p_memsz reads as zero. */
		memset(buf, 0, (size_t)lim);
		return (size_t)lim;
	}
	return 0;
}

/*
 * The segment of the last read.  Reads cluster (a heap walk reads object
 * after object in the same arena), so most of them need no binary search.
 * Per thread, and re-checked against the core's bounds on every use.
 */
static __thread const core_t *hint_core;
static __thread size_t hint_seg;

/* A pointer to len bytes at addr when they lie in one segment's file data. */
static inline const uint8_t *seg_ptr(const core_t *core, uint64_t addr, size_t len)
{
	const core_segment *s;
	uint64_t off;
	long i;

	if (hint_core == core && hint_seg < core->n_segs) {
		s = &core->segs[hint_seg];
		off = addr - s->vaddr;
		if (addr >= s->vaddr && off < s->filesz && len <= s->filesz - off)
			return s->data + off;
	}
	i = seg_floor(core, addr);
	if (i < 0)
		return NULL;
	s = &core->segs[i];
	off = addr - s->vaddr;
	if (off >= s->filesz || len > s->filesz - off)
		return NULL;
	hint_core = core;
	hint_seg = (size_t)i;
	return s->data + off;
}

size_t core_read(const core_t *core, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;
	const uint8_t *p;

	if (!core || !buf)
		return 0;
	/* the common case, with the common sizes copied inline */
	p = len ? seg_ptr(core, addr, len) : NULL;
	if (p) {
		switch (len) {
		case 4: memcpy(out, p, 4); break;
		case 8: memcpy(out, p, 8); break;
		case 16: memcpy(out, p, 16); break;
		case 24: memcpy(out, p, 24); break;
		case 48: memcpy(out, p, 48); break;
		default: memcpy(out, p, len); break;
		}
		return len;
	}
	while (done < len) {
		uint64_t a = addr + done, lim = len - done, n;
		long i;

		if (a < addr)
			break;	/* wrapped past the top of the address space */
		i = seg_floor(core, a);
		if (i >= 0 && a - core->segs[i].vaddr >= core->segs[i].memsz)
			i = -1;
		if (i >= 0) {
			const core_segment *s = &core->segs[i];
			uint64_t off = a - s->vaddr;

			if (off < s->filesz) {
				n = min64(lim, s->filesz - off);
				memcpy(out + done, s->data + off, (size_t)n);
				done += (size_t)n;
				continue;
			}
			lim = min64(lim, s->memsz - off);
		} else {
			/* Stop this piece where the next segment begins. */
			long nx = seg_floor(core, a) + 1;

			if ((size_t)nx < core->n_segs)
				lim = min64(lim, core->segs[nx].vaddr - a);
		}
		n = read_module(core, a, out + done, (size_t)lim, i);
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return done;
}

const void *core_ptr(const core_t *core, uint64_t addr, size_t len)
{
	return core ? seg_ptr(core, addr, len) : NULL;
}

int core_span(const core_t *core, uint64_t addr, uint64_t len)
{
	if (!core || addr + len < addr)
		return 0;
	if (len == 0 || seg_ptr(core, addr, (size_t)len))
		return 1;
	/* one segment after another, each present in the core to its end,
	 * none with a gap before the next */
	uint64_t a = addr, end = addr + len;
	long i = seg_floor(core, a);
	for (; i >= 0 && (size_t)i < core->n_segs; i++) {
		const core_segment *s = &core->segs[i];
		if (a < s->vaddr || a - s->vaddr >= s->filesz)
			return 0;
		uint64_t have = s->vaddr + s->filesz;
		if (have >= end)
			return 1;
		if (s->filesz != s->memsz)
			return 0;
		a = have;
	}
	return 0;
}

int core_read_u64(const core_t *core, uint64_t addr, uint64_t *out)
{
	uint64_t v;
	const uint8_t *p = core ? seg_ptr(core, addr, 8) : NULL;

	if (p) {
		memcpy(out, p, 8);
		return 0;
	}
	if (core_read(core, addr, &v, 8) != 8)
		return -1;
	*out = v;
	return 0;
}

int core_read_u32(const core_t *core, uint64_t addr, uint32_t *out)
{
	uint32_t v;

	if (core_read(core, addr, &v, 4) != 4)
		return -1;
	*out = v;
	return 0;
}

int core_read_str(const core_t *core, uint64_t addr, char *buf, size_t cap)
{
	size_t done = 0;

	if (!buf || cap == 0)
		return -1;
	while (done + 1 < cap) {
		size_t want = cap - 1 - done, got;
		char *nul;

		if (want > 256)
			want = 256;
		got = core_read(core, addr + done, buf + done, want);
		if (got == 0)
			break;
		nul = memchr(buf + done, 0, got);
		if (nul)
			return 0;
		done += got;
		if (got < want)
			break;
	}
	buf[done] = '\0';
	return done ? 0 : -1;
}

size_t core_segment_count(const core_t *core)
{
	return core->n_segs;
}

const core_segment *core_segment_at(const core_t *core, size_t i)
{
	return i < core->n_segs ? &core->segs[i] : NULL;
}

const core_segment *core_segment_find(const core_t *core, uint64_t addr)
{
	long i = seg_floor(core, addr);

	if (i < 0 || addr - core->segs[i].vaddr >= core->segs[i].memsz)
		return NULL;
	return &core->segs[i];
}

/* ---- modules ---- */

int core_module_map_file(core_module_t *m, const char *path, char *err, size_t errlen)
{
	const uint8_t *map;
	size_t size, n = 0;
	Elf64_Ehdr eh;
	uint64_t phnum, i;
	int fd, is_reg;

	if (map_file(path, &fd, &map, &size, &is_reg) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!map) {
		close(fd);
		set_err(err, errlen, "%s: empty file", path);
		return -1;
	}
	if (check_ehdr(map, size, path, &eh, &phnum, err, errlen) < 0) {
		munmap((void *)map, size);
		close(fd);
		return -1;
	}
	m->loads = calloc(phnum ? phnum : 1, sizeof(*m->loads));
	if (!m->loads) {
		munmap((void *)map, size);
		close(fd);
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		get_phdr(map, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0 ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;
		m->loads[n].vaddr = ph.p_vaddr;
		m->loads[n].memsz = ph.p_memsz;
		m->loads[n].offset = ph.p_offset;
		m->loads[n].filesz = min64(ph.p_filesz, ph.p_memsz);
		m->loads[n].flags = ph.p_flags;
		n++;
	}
	m->n_loads = n;
	m->fd = fd;
	m->map = map;
	m->map_size = size;
	m->e_type = eh.e_type;
	free(m->disk_path);
	m->disk_path = strdup(path);
	return 0;
}

/* Finds the GNU build-id note in a buffer of notes. */
struct bid_ctx {
	const uint8_t *id;
	size_t len;
};

static void bid_note(void *ctx, const char *name, size_t namesz, uint32_t type,
		     const uint8_t *d, size_t sz)
{
	struct bid_ctx *b = ctx;

	if (!b->id && type == NT_GNU_BUILD_ID && sz > 0 && sz <= 64 &&
	    note_name_is(name, namesz, "GNU")) {
		b->id = d;
		b->len = sz;
	}
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/*
 * Compares the build-id in the module file with the one the core holds at the
 * same run-time address (the first page of a mapped ELF is normally dumped).
 */
static void check_build_id(core_t *core, core_module_t *m)
{
	Elf64_Ehdr eh;
	uint64_t phnum, i;
	char err[16];

	if (check_ehdr(m->map, m->map_size, "", &eh, &phnum, err, sizeof(err)) < 0)
		return;
	for (i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		struct bid_ctx fb = { 0 }, cb = { 0 };
		uint8_t mem[4096];
		size_t len, got;
		char fx[129], cx[129];

		get_phdr(m->map, &eh, i, &ph);
		if (ph.p_type != PT_NOTE || ph.p_offset >= m->map_size)
			continue;
		len = (size_t)min64(ph.p_filesz, m->map_size - ph.p_offset);
		walk_notes(m->map + ph.p_offset, len, 64, bid_note, &fb);
		if (!fb.id)
			continue;
		len = (size_t)min64(len, sizeof(mem));
		got = read_core_only(core, ph.p_vaddr + m->bias, mem, len);
		walk_notes(mem, got, 64, bid_note, &cb);
		if (!cb.id)
			return;	/* the core does not have it: nothing to compare */
		if (cb.len != fb.len || memcmp(cb.id, fb.id, fb.len) != 0) {
			hex(cx, cb.id, cb.len);
			hex(fx, fb.id, fb.len);
			core_warn(core, "build-id mismatch: core has %s for %s, file %s has %s",
				  cx, m->name, m->disk_path, fx);
		}
		return;
	}
}

/* Whether the core holds an ELF header at addr (tells ELF mappings apart). */
static int core_has_elf_at(const core_t *core, uint64_t addr)
{
	uint8_t mag[SELFMAG];

	return read_core_only(core, addr, mag, SELFMAG) == SELFMAG &&
	       memcmp(mag, ELFMAG, SELFMAG) == 0;
}

static int is_elf_file(const char *path)
{
	struct stat st;
	uint8_t mag[SELFMAG];
	int fd, ok = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, mag, SELFMAG) == SELFMAG && memcmp(mag, ELFMAG, SELFMAG) == 0)
		ok = 1;
	close(fd);
	return ok;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Picks the file on disk for a module path: see core.h / --sysroot, --lib-path. */
static char *locate_module(const char *name, int is_exe, const core_options *o)
{
	char *cand = NULL, *path;
	size_t i, l;

	/* The kernel appends " (deleted)" to names of unlinked files. */
	path = strdup(name);
	if (!path)
		return NULL;
	l = strlen(path);
	if (l > 10 && strcmp(path + l - 10, " (deleted)") == 0)
		path[l - 10] = '\0';
	if (o && is_exe && o->exe) {
		cand = strdup(o->exe);
		goto out;
	}
	if (o && o->sysroot && *o->sysroot) {
		if (asprintf(&cand, "%s%s%s", o->sysroot, path[0] == '/' ? "" : "/", path) < 0)
			cand = NULL;
		else if (is_elf_file(cand))
			goto out;
		free(cand);
		cand = NULL;
	}
	for (i = 0; o && i < o->n_lib_paths; i++) {
		if (!o->lib_paths[i])
			continue;
		if (asprintf(&cand, "%s/%s", o->lib_paths[i], base_name(path)) < 0) {
			cand = NULL;
			continue;
		}
		if (is_elf_file(cand))
			goto out;
		free(cand);
		cand = NULL;
	}
	if (is_elf_file(path)) {
		cand = path;
		return cand;
	}
out:
	free(path);
	return cand;
}

/*
 * A module missing on disk: take the program headers from the ELF header the
 * core usually holds at the mapping of file offset 0.  Without one, assume
 * the first PT_LOAD is at vaddr 0, as for nearly every shared object.
 */
static void bias_from_core(core_t *core, core_module_t *m, const struct core_file_map *low)
{
	uint64_t mapped0 = low->start - low->offset, pg = core->page_size;
	Elf64_Ehdr eh;
	unsigned i;

	m->bias = mapped0;
	if (low->offset != 0 || read_core_only(core, low->start, &eh, sizeof(eh)) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return;
	if (eh.e_type == ET_EXEC) {
		m->bias = 0;
		return;
	}
	for (i = 0; i < eh.e_phnum && i < 256; i++) {
		Elf64_Phdr ph;
		uint64_t at = low->start + eh.e_phoff + (uint64_t)i * sizeof(ph);

		if (eh.e_phoff > UINT64_MAX / 2 ||
		    read_core_only(core, at, &ph, sizeof(ph)) != sizeof(ph))
			return;
		if (ph.p_type == PT_LOAD) {
			m->bias = mapped0 + (ph.p_offset & ~(pg - 1)) - (ph.p_vaddr & ~(pg - 1));
			return;
		}
	}
}

/* Load bias from the file's first PT_LOAD and the mapping of its lowest offset. */
static void compute_bias(core_t *core, core_module_t *m, const struct core_file_map *low)
{
	uint64_t pg = core->page_size ? core->page_size : DEFAULT_PAGE;
	uint64_t fv, fo, mapped0;
	size_t i;

	if (!m->map) {
		bias_from_core(core, m, low);
		return;
	}
	if (m->e_type == ET_EXEC || !m->n_loads) {
		m->bias = 0;
		return;
	}
	/* The first PT_LOAD in file order: the one with the lowest vaddr. */
	fv = m->loads[0].vaddr;
	fo = m->loads[0].offset;
	for (i = 1; i < m->n_loads; i++)
		if (m->loads[i].vaddr < fv) {
			fv = m->loads[i].vaddr;
			fo = m->loads[i].offset;
		}
	/* Address where file offset 0 would be mapped. */
	mapped0 = low->start - low->offset;
	m->bias = mapped0 + (fo & ~(pg - 1)) - (fv & ~(pg - 1));
}

static int add_modules(core_t *core, const core_options *opts)
{
	uint64_t at_phdr = core_auxv(core, AT_PHDR), at_entry = core_auxv(core, AT_ENTRY);
	size_t i, j;

	core->mods = calloc(core->n_files ? core->n_files : 1, sizeof(*core->mods));
	if (!core->mods)
		return -1;
	/* files[] is sorted by start, so modules come out sorted by base. */
	for (i = 0; i < core->n_files; i++) {
		struct core_file_map *f = &core->files[i], *low = f;
		core_module_t *m;
		int is_exe = 0, core_elf;
		char *disk, err[512];

		if (f->module != -1)
			continue;
		f->module = -2;	/* visited */
		/* Group every mapping of the same path. */
		for (j = i; j < core->n_files; j++) {
			struct core_file_map *g = &core->files[j];

			if (g->name != f->name && strcmp(g->name, f->name) != 0)
				continue;
			g->module = -2;
			if (g->offset < low->offset)
				low = g;
			if ((at_phdr >= g->start && at_phdr < g->end) ||
			    (at_entry >= g->start && at_entry < g->end))
				is_exe = 1;
		}
		core_elf = low->offset == 0 && core_has_elf_at(core, low->start);
		disk = locate_module(f->name, is_exe, opts);
		if (!disk) {
			/* Only complain about files that really are ELF modules. */
			const char *b = base_name(f->name);

			if (!core_elf && !is_exe && !strstr(b, ".so"))
				continue;
			if (f->name[0] != '/')
				continue;
		}
		m = calloc(1, sizeof(*m));
		if (!m) {
			free(disk);
			return -1;
		}
		m->core = core;
		m->fd = -1;
		m->is_exe = is_exe;
		m->name = strdup(f->name);
		m->base = f->start;
		if (!m->name) {
			free(m);
			free(disk);
			return -1;
		}
		if (disk) {
			if (core_module_map_file(m, disk, err, sizeof(err)) < 0)
				core_warn(core, "module %s: %s", f->name, err);
		} else {
			core_warn(core, "module %s: not found on disk", f->name);
		}
		free(disk);
		compute_bias(core, m, low);
		for (j = i; j < core->n_files; j++)
			if (core->files[j].name == f->name || strcmp(core->files[j].name, f->name) == 0)
				core->files[j].module = (long)core->n_mods;
		core->mods[core->n_mods++] = m;
		if (is_exe && !core->exe_mod)
			core->exe_mod = m;
		if (m->map)
			check_build_id(core, m);
	}
	for (i = 0; i < core->n_files; i++)
		if (core->files[i].module < 0)
			core->files[i].module = -1;
	return 0;
}

static void find_exe(core_t *core)
{
	uint64_t keys[2] = { AT_PHDR, AT_ENTRY }, fn;
	char buf[CORE_MAX_STR];
	size_t k;

	for (k = 0; k < 2; k++) {
		uint64_t a = core_auxv(core, keys[k]);
		const struct core_file_map *f = a ? file_find(core, a) : NULL;

		if (f) {
			core->exe = strdup(f->name);
			return;
		}
	}
	fn = core_auxv(core, AT_EXECFN);
	if (fn && core_read_str(core, fn, buf, sizeof(buf)) == 0 && buf[0]) {
		core->exe = strdup(buf);
		return;
	}
	core->exe = strdup(core->fname);
}

/* ---- open and close ---- */

/* libdwfl's search path for separate debug info: the --debug-dir
 * directories, the sysroot's /usr/lib/debug, then libdwfl's default (beside
 * the file, its .debug/, /usr/lib/debug).  Absolute directories are
 * searched by build-id and by debuglink name. */
static int set_debuginfo_path(core_t *core, const core_options *o)
{
	size_t len = 64;
	for (size_t i = 0; o && i < o->n_debug_dirs; i++)
		len += o->debug_dirs[i] ? strlen(o->debug_dirs[i]) + 1 : 0;
	if (o && o->sysroot)
		len += strlen(o->sysroot) + sizeof "/usr/lib/debug:";
	char *p = malloc(len);
	if (!p)
		return -1;
	p[0] = 0;
	for (size_t i = 0; o && i < o->n_debug_dirs; i++)
		if (o->debug_dirs[i] && *o->debug_dirs[i]) {
			strcat(p, o->debug_dirs[i]);
			strcat(p, ":");
		}
	if (o && o->sysroot && *o->sysroot) {
		strcat(p, o->sysroot);
		strcat(p, "/usr/lib/debug:");
	}
	strcat(p, ":.debug:/usr/lib/debug");
	core->debuginfo_path = p;
	return 0;
}

/* Parses the core mapped at core->map (core->path names it in messages). */
static int parse_core(core_t *core, const core_options *opts, char *err, size_t errlen)
{
	const char *path = core->path;
	Elf64_Ehdr eh;
	uint64_t phnum;

	if (check_ehdr(core->map, core->size, path, &eh, &phnum, err, errlen) < 0)
		return -1;
	if (eh.e_type != ET_CORE) {
		const char *t = etype_name(eh.e_type);

		if (t)
			set_err(err, errlen, "%s: ELF file is not a core (type %s)", path, t);
		else
			set_err(err, errlen, "%s: ELF file is not a core (type %u)", path,
				(unsigned)eh.e_type);
		return -1;
	}
	if (load_segments(core, &eh, phnum) < 0) {
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	load_notes(core, &eh, phnum);
	if (core->n_files)
		qsort(core->files, core->n_files, sizeof(*core->files), file_cmp);
	if (!core->page_size)
		core->page_size = DEFAULT_PAGE;
	label_segments(core);
	if (core->pid < 0 && core->n_tids)
		core->pid = core->tids[0];
	if (add_modules(core, opts) < 0 || set_debuginfo_path(core, opts) < 0) {
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	find_exe(core);
	if (!core->exe) {
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

static core_t *core_new(const char *path, char *err, size_t errlen)
{
	core_t *core = calloc(1, sizeof(*core));

	if (!core || !(core->path = strdup(path))) {
		free(core);
		set_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	core->fd = -1;
	core->pid = -1;
	core->siginfo_sig = -1;
	return core;
}

int core_open(core_t **out, const char *path, const core_options *opts,
	      char *err, size_t errlen)
{
	core_t *core;
	int is_reg;

	*out = NULL;
	if (!path) {
		set_err(err, errlen, "(null): no core file given");
		return -1;
	}
	core = core_new(path, err, errlen);
	if (!core)
		return -1;
	if (map_file(path, &core->fd, &core->map, &core->size, &is_reg) < 0) {
		if (!is_reg && errno == EINVAL)
			set_err(err, errlen, "%s: not a regular file", path);
		else
			set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!core->map) {
		set_err(err, errlen, "%s: empty file", path);
		goto fail;
	}
	/* A compressed core (systemd-coredump's .zst, lz4, xz): by its magic. */
	core->compression = core_compression(core->map, core->size);
	if (core->compression != CORE_COMP_NONE) {
		uint8_t *raw;
		size_t rawsz;

		madvise((void *)core->map, core->size, MADV_SEQUENTIAL);
		if (core_decompress(&raw, &rawsz, core->compression, core->map, core->size,
				    path, err, errlen) < 0)
			goto fail;
		munmap((void *)core->map, core->size);
		close(core->fd);
		core->fd = -1;
		core->map = raw;
		core->size = rawsz;
	}
	if (parse_core(core, opts, err, errlen) < 0)
		goto fail;
	*out = core;
	return 0;
fail:
	core_free(core);
	return -1;
}

int core_open_mem(core_t **out, const char *label, uint8_t *map, size_t size,
		  const core_options *opts, char *err, size_t errlen)
{
	core_t *core = core_new(label, err, errlen);

	*out = NULL;
	if (!core) {
		munmap(map, size);
		return -1;
	}
	core->map = map;
	core->size = size;
	if (parse_core(core, opts, err, errlen) < 0) {
		core_free(core);
		return -1;
	}
	*out = core;
	return 0;
}

void core_module_release(core_module_t *m)
{
	if (!m)
		return;
	core_dwarf_release(m);
	if (m->map)
		munmap((void *)m->map, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	free(m->loads);
	free(m->name);
	free(m->disk_path);
	free(m);
}

void core_free(core_t *core)
{
	size_t i;

	if (!core)
		return;
	for (i = 0; i < core->n_mods; i++)
		core_module_release(core->mods[i]);
	free(core->mods);
	for (i = 0; i < core->n_file_names; i++)
		free(core->file_names[i]);
	free(core->file_names);
	free(core->files);
	for (i = 0; i < core->n_warns; i++)
		free(core->warns[i]);
	free(core->warns);
	free(core->auxv);
	free(core->tids);
	free(core->regs);
	free(core->segs);
	free(core->seg_truncated);
	free(core->exe);
	free(core->debuginfo_path);
	free(core->dwfl_cbs);
	if (core->map)
		munmap((void *)core->map, core->size);
	if (core->fd >= 0)
		close(core->fd);
	free(core->path);
	free(core);
}

/* ---- the process ---- */

const char *core_path(const core_t *core)
{
	return core->path;
}

int core_pid(const core_t *core)
{
	return core->pid;
}

int core_signal(const core_t *core)
{
	if (core->siginfo_sig >= 0)
		return core->siginfo_sig;
	return core->prstatus_sig > 0 ? core->prstatus_sig : 0;
}

const char *core_exe(const core_t *core)
{
	return core->exe;
}

const char *core_cmdline(const core_t *core)
{
	return core->cmdline;
}

size_t core_thread_count(const core_t *core)
{
	return core->n_tids;
}

int core_thread_tid(const core_t *core, size_t i)
{
	return i < core->n_tids ? core->tids[i] : -1;
}

int core_thread_regs(const core_t *core, size_t i, uint64_t regs[CORE_NREGS])
{
	if (!core || i >= core->n_tids || !core->regs)
		return -1;
	memcpy(regs, core->regs + i * CORE_NREGS, CORE_NREGS * sizeof *regs);
	return 0;
}

uint64_t core_auxv(const core_t *core, uint64_t type)
{
	size_t i;

	for (i = 0; i < core->n_auxv; i++)
		if (core->auxv[2 * i] == type)
			return core->auxv[2 * i + 1];
	return 0;
}

uint64_t core_missing_bytes(const core_t *core)
{
	return core->missing;
}

/* ---- modules ---- */

size_t core_module_count(const core_t *core)
{
	return core->n_mods;
}

core_module_t *core_module_at(const core_t *core, size_t i)
{
	return i < core->n_mods ? core->mods[i] : NULL;
}

core_module_t *core_module_exe(const core_t *core)
{
	return core->exe_mod;
}

core_module_t *core_module_find(const core_t *core, const char *prefix)
{
	size_t i, l = strlen(prefix);

	for (i = 0; i < core->n_mods; i++)
		if (strncmp(base_name(core->mods[i]->name), prefix, l) == 0)
			return core->mods[i];
	return NULL;
}

const char *core_module_name(const core_module_t *m)
{
	return m->name;
}

const char *core_module_disk_path(const core_module_t *m)
{
	return m->disk_path;
}

uint64_t core_module_base(const core_module_t *m)
{
	return m->base;
}

uint64_t core_module_bias(const core_module_t *m)
{
	return m->bias;
}

int core_module_open_file(core_module_t **out, const char *path, char *err, size_t errlen)
{
	core_module_t *m;
	size_t i;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	m->fd = -1;
	m->name = strdup(path);
	if (!m->name || core_module_map_file(m, path, err, errlen) < 0) {
		if (!m->name)
			set_err(err, errlen, "%s: out of memory", path);
		core_module_release(m);
		return -1;
	}
	m->bias = 0;
	m->base = m->n_loads ? m->loads[0].vaddr : 0;
	for (i = 1; i < m->n_loads; i++)
		if (m->loads[i].vaddr < m->base)
			m->base = m->loads[i].vaddr;
	m->base &= ~(uint64_t)(DEFAULT_PAGE - 1);
	*out = m;
	return 0;
}

void core_module_free(core_module_t *m)
{
	/* Modules borrowed from a core belong to it. */
	if (m && !m->core)
		core_module_release(m);
}

/* ---- warnings ---- */

size_t core_warning_count(const core_t *core)
{
	return core->n_warns;
}

const char *core_warning(const core_t *core, size_t i)
{
	return i < core->n_warns ? core->warns[i] : NULL;
}

size_t core_module_data_count(const core_module_t *m)
{
	size_t n = 0;
	for (size_t i = 0; m && i < m->n_loads; i++)
		n += (m->loads[i].flags & PF_W) != 0;
	return n;
}

int core_module_data_at(const core_module_t *m, size_t i, uint64_t *addr, uint64_t *size)
{
	for (size_t k = 0; m && k < m->n_loads; k++) {
		if (!(m->loads[k].flags & PF_W))
			continue;
		if (i-- == 0) {
			*addr = m->loads[k].vaddr + m->bias;
			*size = m->loads[k].memsz;
			return 0;
		}
	}
	return -1;
}

int core_malloc_glibc(core_t *core)
{
	if (!core)
		return 0;
	if (core->malloc_kind == 0) {
		int libc = 0, other = 0;
		for (size_t i = 0; i < core->n_mods; i++) {
			const char *n = base_name(core->mods[i]->name);
			libc |= strncmp(n, "libc.so", 7) == 0 || strncmp(n, "libc-", 5) == 0;
			other |= strstr(n, "jemalloc") || strstr(n, "tcmalloc") || strstr(n, "mimalloc");
		}
		core->malloc_kind = libc && !other ? 1 : -1;
	}
	return core->malloc_kind > 0;
}

uint64_t core_malloc_usable(const core_t *core, uint64_t p)
{
	uint64_t size;
	/* the chunk's size field, 8 bytes before the user pointer; low bits:
	 * PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4 */
	if ((p & 15) || core_read_u64(core, p - 8, &size) < 0)
		return 0;
	uint64_t bytes = size & ~7ull;
	if (bytes < 32 || (bytes & 15))
		return 0;
	return bytes - ((size & 2) ? 16 : 8);
}
