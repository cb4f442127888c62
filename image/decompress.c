/*
 * decompress.c - cores stored compressed: zstd (what systemd-coredump
 * writes by default), lz4 frames and xz, recognised by their magic bytes,
 * never by the file's name.
 *
 * The rest of image/ works on a mapped core, so the decompressed bytes go
 * to anonymous memory (mmap, grown with mremap when the stream does not say
 * how big it is) that core_free() unmaps like a mapped file.  Nothing is
 * read past the compressed input (itself mapped), and the output is
 * bounded: by the size the stream declares when it declares one (reserved,
 * not touched: a lying header costs address space, not memory), and by
 * the machine's physical memory in any case.  A truncated or corrupt
 * stream is one error line.
 */
#include <errno.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdatomic.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_d_forceIgnoreChecksum */
#include <zstd.h>
#include <zstd_errors.h>

#include "coreInt.h"

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

int core_compression(const uint8_t *p, size_t n)
{
	static const uint8_t zst[4] = {0x28, 0xb5, 0x2f, 0xfd};
	static const uint8_t lz4[4] = {0x04, 0x22, 0x4d, 0x18};
	static const uint8_t lz4_legacy[4] = {0x02, 0x21, 0x4c, 0x18};
	static const uint8_t xz[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

	if (n >= 4 && memcmp(p, zst, 4) == 0)
		return CORE_COMP_ZSTD;
	/* zstd skippable frames (0x184D2A50..5F) may lead a zstd stream */
	if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)
		return CORE_COMP_ZSTD;
	if (n >= 4 && (memcmp(p, lz4, 4) == 0 || memcmp(p, lz4_legacy, 4) == 0))
		return CORE_COMP_LZ4;
	if (n >= 6 && memcmp(p, xz, 6) == 0)
		return CORE_COMP_XZ;
	return CORE_COMP_NONE;
}

/* ---- the output: anonymous memory that grows ---- */

typedef struct obuf {
	uint8_t *p;
	size_t len, cap, limit;
	atomic_size_t progress;  /* len, for a populator running ahead (streams) */
	int fixed;               /* reserved whole: the output never moves */
	const char *path;
	char *err;
	size_t errlen;
} obuf;

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) & ~(pg - 1);
}

/* Physical memory: more decompressed core than this cannot be held. */
static size_t memory_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), pg = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || pg <= 0)
		return (size_t)1 << 40;
	return (size_t)pages * (size_t)pg;
}

/* Makes room for at least `need` bytes; 0, or -1 with the error set. */
static int obuf_reserve(obuf *b, size_t need)
{
	size_t ncap;
	void *m;

	if (need <= b->cap)
		return 0;
	if (need > b->limit) {
		set_err(b->err, b->errlen,
			"%s: decompressed core larger than this machine's memory (%zu MiB); "
			"decompress it to a file first", b->path, b->limit >> 20);
		return -1;
	}
	ncap = b->cap ? b->cap : ((size_t)1 << 24);
	while (ncap < need)
		ncap = ncap > b->limit / 2 ? b->limit : ncap * 2;
	ncap = page_round(ncap);
	if (!b->p)
		m = mmap(NULL, ncap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	else
		m = mremap(b->p, b->cap, ncap, MREMAP_MAYMOVE);
	if (m == MAP_FAILED) {
		set_err(b->err, b->errlen, "%s: cannot reserve %zu MiB for the decompressed core: %s",
			b->path, ncap >> 20, strerror(errno));
		return -1;
	}
	b->p = m;
	b->cap = ncap;
	return 0;
}

/* Gives the bytes to the caller, the mapping trimmed to them. */
static int obuf_done(obuf *b, uint8_t **out, size_t *size)
{
	size_t keep = page_round(b->len);

	if (b->len == 0) {
		set_err(b->err, b->errlen, "%s: the compressed stream holds no data", b->path);
		return -1;
	}
	if (keep < b->cap) {
		munmap(b->p + keep, b->cap - keep);
		b->cap = keep;
	}
	*out = b->p;
	*size = b->len;
	b->p = NULL;
	return 0;
}

static void obuf_free(obuf *b)
{
	if (b->p)
		munmap(b->p, b->cap);
	b->p = NULL;
}

/* ---- populating the output ahead of the decoder ----
 *
 * Most of the cost of decompressing into fresh anonymous memory beyond the
 * decoder's own is the page faults (one trap and one zeroed page per 4 KiB;
 * huge pages, MADV_HUGEPAGE, made it slower: 1.4-2.8 s of compaction and
 * zeroing after another big run, against 0.5 s).  A second thread
 * asks the kernel to populate the output (MADV_POPULATE_WRITE, Linux 5.14)
 * a chunk at a time, ahead of the decoder, on another CPU.  It never
 * writes: what it populates keeps what the decoder wrote.  On an older
 * kernel it stops at once.
 *
 * The whole limit is reserved at once, as address space only, so that the
 * output never moves; the populator stays at most POPULATE_AHEAD beyond the
 * decoder's progress (reported every STREAM_STEP), and what it populated
 * past the end is unmapped with the rest of the reservation. */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define POPULATE_CHUNK ((size_t)16 << 20)
#define POPULATE_AHEAD ((size_t)64 << 20)
#define STREAM_STEP ((size_t)16 << 20)

typedef struct populator {
	uint8_t *p;
	size_t len;
	atomic_size_t *progress;   /* streams: the decoder's output so far */
	atomic_size_t populated;   /* how far it has populated */
	int (*idle)(void *);       /* work for the time it is far enough ahead: */
	void *idle_arg;            /* nonzero when some was done */
	atomic_int stop;
	pthread_t thread;
	int running;
} populator;

static void *populate(void *arg)
{
	populator *pp = arg;

	for (size_t off = 0; off < pp->len && !atomic_load(&pp->stop); off += POPULATE_CHUNK) {
		size_t n = pp->len - off < POPULATE_CHUNK ? pp->len - off : POPULATE_CHUNK;

		while (pp->progress && off > atomic_load(pp->progress) + POPULATE_AHEAD &&
		       !atomic_load(&pp->stop)) {
			if (pp->idle && pp->idle(pp->idle_arg))
				continue;
			struct timespec ts = {0, 200 * 1000};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&pp->stop) || madvise(pp->p + off, n, MADV_POPULATE_WRITE) < 0)
			break;
		atomic_store_explicit(&pp->populated, off + n, memory_order_relaxed);
	}
	return NULL;
}

static void populate_start(populator *pp, uint8_t *p, size_t len, atomic_size_t *progress,
			   int (*idle)(void *), void *idle_arg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(pp, 0, sizeof *pp);
	pp->p = p;
	pp->len = page_round(len);
	pp->progress = progress;
	pp->idle = idle;
	pp->idle_arg = idle_arg;
	atomic_init(&pp->populated, 0);
	atomic_init(&pp->stop, 0);
	/* only worth a thread for a big core on a machine with a CPU to spare */
	if (cpus > 1 && len >= ((size_t)64 << 20))
		pp->running = pthread_create(&pp->thread, NULL, populate, pp) == 0;
}

/* Whether the decoder has caught up with the populator (or none runs):
 * it then writes pages nobody populated, and the other CPU is the one
 * short of time. */
static int populate_behind(populator *pp, size_t progress)
{
	return !pp->running ||
	       atomic_load_explicit(&pp->populated, memory_order_relaxed) < progress;
}

static void populate_end(populator *pp)
{
	if (!pp->running)
		return;
	atomic_store(&pp->stop, 1);
	pthread_join(pp->thread, NULL);
	pp->running = 0;
}

/* The output of a stream: reserved whole when the address space allows
 * (then a populator runs ahead), else `first` bytes that grow.  0, or -1
 * with the error set. */
static int stream_start(obuf *b, size_t first, populator *pp, int (*idle)(void *),
			void *idle_arg)
{
	void *m = mmap(NULL, b->limit, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	memset(pp, 0, sizeof *pp);
	if (m == MAP_FAILED)
		return obuf_reserve(b, first);
	b->p = m;
	b->cap = b->limit;
	b->fixed = 1;
	atomic_store(&b->progress, 0);
	populate_start(pp, b->p, b->cap, &b->progress, idle, idle_arg);
	return 0;
}

/* Room for the decoder's next step: at most STREAM_STEP, so that progress
 * is reported often enough for the populator. */
static size_t stream_room(const obuf *b)
{
	return b->cap - b->len < STREAM_STEP ? b->cap - b->len : STREAM_STEP;
}

static void stream_progress(obuf *b)
{
	atomic_store_explicit(&b->progress, b->len, memory_order_release);
}

/* ---- XXH64, the checksum of a zstd frame ----
 *
 * A frame's checksum is the low 32 bits of XXH64 (seed 0) of its content.
 * Hashed in stripes of 32 bytes as the content arrives, then finished with
 * the tail. */

#define XXP1 11400714785074694791ULL
#define XXP2 14029467366897019727ULL
#define XXP3 1609587929392839161ULL
#define XXP4 9650029242287828579ULL
#define XXP5 2870177450012600261ULL

typedef struct xxh64 {
	uint64_t v[4];
} xxh64;

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t xx_round(uint64_t acc, uint64_t in)
{
	return rotl64(acc + in * XXP2, 31) * XXP1;
}

static inline uint64_t xx_merge(uint64_t h, uint64_t v)
{
	return (h ^ xx_round(0, v)) * XXP1 + XXP4;
}

static void xxh64_begin(xxh64 *s)
{
	s->v[0] = XXP1 + XXP2;
	s->v[1] = XXP2;
	s->v[2] = 0;
	s->v[3] = -XXP1;
}

static void xxh64_stripes(xxh64 *s, const uint8_t *p, size_t nstripes)
{
	uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];

	for (; nstripes; nstripes--, p += 32) {
		v0 = xx_round(v0, le64(p));
		v1 = xx_round(v1, le64(p + 8));
		v2 = xx_round(v2, le64(p + 16));
		v3 = xx_round(v3, le64(p + 24));
	}
	s->v[0] = v0;
	s->v[1] = v1;
	s->v[2] = v2;
	s->v[3] = v3;
}

/* The hash of `total` bytes whose last `n` (< 32) are at p, the stripes
 * before them having gone through xxh64_stripes. */
static uint64_t xxh64_end(const xxh64 *s, const uint8_t *p, size_t n, uint64_t total)
{
	uint64_t h;

	if (total >= 32) {
		h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) +
		    rotl64(s->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = xx_merge(h, s->v[i]);
	} else {
		h = XXP5;
	}
	h += total;
	for (; n >= 8; n -= 8, p += 8)
		h = rotl64(h ^ xx_round(0, le64(p)), 27) * XXP1 + XXP4;
	if (n >= 4) {
		h = rotl64(h ^ (uint64_t)le32(p) * XXP1, 23) * XXP2 + XXP3;
		n -= 4;
		p += 4;
	}
	for (; n; n--, p++)
		h = rotl64(h ^ *p * XXP5, 11) * XXP1;
	h ^= h >> 33;
	h *= XXP2;
	h ^= h >> 29;
	h *= XXP3;
	return h ^ (h >> 32);
}

uint64_t core_xxh64(const void *p, size_t n)
{
	xxh64 s;

	xxh64_begin(&s);
	xxh64_stripes(&s, p, n / 32);
	return xxh64_end(&s, (const uint8_t *)p + n / 32 * 32, n % 32, n);
}

/* ---- the zstd input, walked before it is decoded ----
 *
 * Each frame's end and checksum, for the checking below, and where to cut
 * the input so that each cut decodes to about STREAM_STEP: the decoder
 * reports its progress to the populator at each cut.  Block headers give
 * that exactly (a raw or RLE block says its size, a compressed one is at
 * most 128 KiB), where a ratio measured on the way could not: a step of
 * RLE blocks decodes to 32,768 times its size.  Input that does not walk
 * (truncated, corrupt, or in more than MAX_WALKED_FRAMES frames) is left
 * to zstd: its own window and checks. */

#define MAX_WALKED_FRAMES 65536
#define ZSTD_BLOCK_MAX ((size_t)128 << 10)

typedef struct zframe {
	size_t in_end;       /* the frame's end in the input */
	size_t out_end;      /* ... and in the output, once decoded */
	uint32_t sum;        /* its checksum, when it has one */
	int has_sum;
} zframe;

typedef struct zwalk {
	zframe *frames;
	size_t nframes;
	size_t *cuts;        /* input offsets (block ends), ascending */
	size_t ncuts;
	size_t out;          /* most output since the last cut */
	unsigned long long known;  /* declared output, or ZSTD_CONTENTSIZE_UNKNOWN */
} zwalk;

/* Room for `need` elements of `elem` bytes in arr (*cap of them now): arr
 * itself, or arr grown by doubling, *cap updated; NULL when out of memory
 * (arr still the caller's). */
static void *grow(void *arr, size_t need, size_t *cap, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return arr;
	while (c < need)
		c *= 2;
	void *p = realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

/* The blocks of the zstd frame at src[off..end): a cut after each block
 * that brings the output since the last cut to STREAM_STEP.  0, or -1 when
 * the frame does not parse to exactly that end. */
static int zstd_blocks(zwalk *w, size_t *cutcap, const uint8_t *src, size_t off, size_t end)
{
	static const uint8_t dict_len[4] = {0, 1, 2, 4};
	uint8_t fhd = src[off + 4];
	size_t fcs_len = (fhd >> 6) ? (size_t)1 << (fhd >> 6) : (fhd & 0x20) ? 1 : 0;
	size_t p = off + 5 + ((fhd & 0x20) ? 0 : 1) + dict_len[fhd & 3] + fcs_len;
	uint32_t bh;

	if (fhd & 0x08)
		return -1;	/* a reserved bit */
	do {
		if (p > end || end - p < 3)
			return -1;
		bh = src[p] | (uint32_t)src[p + 1] << 8 | (uint32_t)src[p + 2] << 16;
		uint32_t type = (bh >> 1) & 3, size = bh >> 3;
		size_t in_len = type == 1 ? 1 : size;
		p += 3;
		if (type == 3 || in_len > end - p)
			return -1;
		p += in_len;
		w->out += type == 2 ? ZSTD_BLOCK_MAX : size;
		if (w->out >= STREAM_STEP) {
			size_t *g = grow(w->cuts, w->ncuts + 1, cutcap, sizeof *w->cuts);
			if (!g)
				return -1;
			w->cuts = g;
			w->cuts[w->ncuts++] = p;
			w->out = 0;
		}
	} while (!(bh & 1));
	return p + ((fhd & 4) ? 4 : 0) == end ? 0 : -1;
}

static void zwalk_free(zwalk *w)
{
	free(w->frames);
	free(w->cuts);
	w->frames = NULL;
	w->cuts = NULL;
	w->nframes = w->ncuts = 0;
}

/* Records the frame at src[off..off+fl) (its end, its checksum, its
 * blocks' cuts); -1 when it does not parse or there are too many. */
static int zstd_frame(zwalk *w, size_t *cap, size_t *cutcap, const uint8_t *src, size_t off,
		      size_t fl)
{
	zframe *fr;

	if (fl < 5 || w->nframes == MAX_WALKED_FRAMES)
		return -1;
	fr = grow(w->frames, w->nframes + 1, cap, sizeof *w->frames);
	if (!fr)
		return -1;
	w->frames = fr;
	fr = &w->frames[w->nframes++];
	fr->in_end = off + fl;
	fr->out_end = 0;
	fr->has_sum = 0;
	fr->sum = 0;
	if (le32(src + off) == ZSTD_MAGICNUMBER) {
		if (zstd_blocks(w, cutcap, src, off, off + fl) < 0)
			return -1;
		/* the descriptor's bit 2: the frame ends with a checksum */
		fr->has_sum = (src[off + 4] & 4) != 0;
		fr->sum = fr->has_sum ? le32(src + off + fl - 4) : 0;
	}
	return 0;
}

/* Walks src[0..n) into w, in one pass over its frames:
 * - w->known, the sum of the frames' declared sizes when every frame
 *   declares one and is complete (the output must then have that size),
 *   else ZSTD_CONTENTSIZE_UNKNOWN;
 * - w->frames and w->cuts when it divides into whole frames that parse,
 *   else none. */
static void zstd_walk(zwalk *w, const uint8_t *src, size_t n)
{
	size_t off = 0, cap = 0, cutcap = 0;
	int walked = 1;

	memset(w, 0, sizeof *w);
	while (off < n) {
		size_t fl = ZSTD_findFrameCompressedSize(src + off, n - off);
		unsigned long long cs = ZSTD_getFrameContentSize(src + off, n - off);

		if (ZSTD_isError(fl)) {
			w->known = ZSTD_CONTENTSIZE_UNKNOWN;
			walked = 0;
			break;
		}
		if (cs == ZSTD_CONTENTSIZE_UNKNOWN || cs == ZSTD_CONTENTSIZE_ERROR ||
		    w->known + cs < w->known)
			w->known = ZSTD_CONTENTSIZE_UNKNOWN;
		else if (w->known != ZSTD_CONTENTSIZE_UNKNOWN)
			w->known += cs;
		walked = walked && zstd_frame(w, &cap, &cutcap, src, off, fl) == 0;
		off += fl;
	}
	if (!walked || !w->nframes)
		zwalk_free(w);
}

/* ---- zstd frame checksums, verified in spare time ----
 *
 * zstd checks each frame's XXH64 in the decoding thread: about 0.1 s of
 * the 0.75 s that 1.1 GiB takes here.  When the output never moves (it was
 * reserved whole) and the input walked, zstd is told not to check, and
 * the hashing is done by whichever thread has time for it: the populator
 * while it is far enough ahead (the decoder is the one short of time, as
 * for most cores), else the decoder between two steps (the populator is,
 * as for a core of zero pages that decodes at memset's speed).  One thread
 * at a time, in order, under a lock.  Nothing is given to the caller
 * before every frame's sum was compared: a wrong one is the same error
 * zstd gives. */

#define CHECK_BUDGET ((size_t)4 << 20)  /* hashed per turn of the populator */

typedef struct zcheck {
	obuf *b;                     /* the output and the decoder's progress */
	zwalk w;                     /* the input's frames and cuts */
	size_t next_cut;             /* the decoder's next cut in w */
	atomic_size_t done;          /* frames decoded (their out_end set) */
	atomic_int active;           /* zstd does not check: we do */
	pthread_mutex_t lock;        /* the hashing state below */
	size_t f;                    /* the frame being hashed */
	size_t start, pos;           /* its start in the output, and how far */
	xxh64 s;
	size_t bad;                  /* 1 + the first frame whose sum is wrong */
} zcheck;

static void zcheck_init(zcheck *z, obuf *b, const uint8_t *src, size_t n)
{
	memset(z, 0, sizeof *z);
	z->b = b;
	atomic_init(&z->done, 0);
	atomic_init(&z->active, 0);
	pthread_mutex_init(&z->lock, NULL);
	xxh64_begin(&z->s);
	zstd_walk(&z->w, src, n);
}

/* Takes the checking from zstd when it can: the output never moves, the
 * input was walked and zstd lets itself be told. */
static void zcheck_take(zcheck *z, ZSTD_DCtx *d)
{
	if (z->b->fixed && z->w.frames && ZSTD_versionNumber() >= 10500 &&
	    !ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_forceIgnoreChecksum,
						 ZSTD_d_ignoreChecksum)))
		atomic_store(&z->active, 1);
}

/* Hashes what has been decoded and not hashed, at most `budget` bytes:
 * with `wait` it waits for the lock, else it gives up when another thread
 * holds it.  Nonzero when it hashed something. */
static int zcheck_step(zcheck *z, int wait, size_t budget)
{
	int did = 0;

	if (!atomic_load(&z->active))
		return 0;
	if (wait)
		pthread_mutex_lock(&z->lock);
	else if (pthread_mutex_trylock(&z->lock) != 0)
		return 0;
	while (z->f < z->w.nframes && !z->bad) {
		const zframe *fr = &z->w.frames[z->f];
		/* progress first: when the frame is then not yet done, all the
		 * output up to that progress is this frame's (the decoder marks
		 * a frame done before it decodes the next one) */
		size_t avail = atomic_load_explicit(&z->b->progress, memory_order_acquire);
		int ended = atomic_load_explicit(&z->done, memory_order_acquire) > z->f;
		size_t end = ended ? fr->out_end : avail;
		size_t whole = (end - z->pos) / 32;

		if (whole > budget / 32)
			whole = budget / 32;
		if (fr->has_sum && whole)
			xxh64_stripes(&z->s, z->b->p + z->pos, whole);
		z->pos += whole * 32;
		budget -= whole * 32;
		did |= whole > 0;
		if (!ended || end - z->pos >= 32)
			break;
		if (fr->has_sum && (uint32_t)xxh64_end(&z->s, z->b->p + z->pos, end - z->pos,
						       end - z->start) != fr->sum)
			z->bad = z->f + 1;
		z->start = z->pos = end;
		z->f++;
		xxh64_begin(&z->s);
	}
	pthread_mutex_unlock(&z->lock);
	return did;
}

/* The populator's work while it is ahead. */
static int zcheck_idle(void *arg)
{
	return zcheck_step(arg, 0, CHECK_BUDGET);
}

/* Once every frame is decoded: the rest hashed here.  The 1-based frame
 * whose sum is wrong, or 0. */
static size_t zcheck_end(zcheck *z)
{
	zcheck_step(z, 1, SIZE_MAX);
	return z->bad;
}

static void zcheck_free(zcheck *z)
{
	pthread_mutex_destroy(&z->lock);
	zwalk_free(&z->w);
}

/* ---- zstd ---- */

/* Decodes from in until its end (in->size) is consumed and the decoder
 * holds nothing more; 0, or -1 with the error set.  With `stable`, zstd
 * decodes straight into the output (which then must not move) instead of
 * into a window of its own that it copies out; it is then given the input
 * up to the walk's next cut at a time, so that it still reports progress
 * about every STREAM_STEP.  Between steps, when it has caught up with the
 * populator, it hashes for z. */
static int zstd_run(ZSTD_DCtx *d, obuf *b, ZSTD_inBuffer *in, int stable, zcheck *z,
		    populator *pp)
{
	size_t end = in->size, last = 1;

	while (in->pos < end || last != 0) {
		size_t before = in->pos, made;

		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			return -1;
		ZSTD_outBuffer o = {b->p + b->len, stream_room(b), 0};
		if (stable) {
			o = (ZSTD_outBuffer){b->p, b->cap, b->len};
			while (z->next_cut < z->w.ncuts && z->w.cuts[z->next_cut] <= in->pos)
				z->next_cut++;
			if (z->next_cut < z->w.ncuts && z->w.cuts[z->next_cut] < end)
				in->size = z->w.cuts[z->next_cut];
		}
		last = ZSTD_decompressStream(d, &o, in);
		in->size = end;
		if (ZSTD_isError(last)) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
				ZSTD_getErrorName(last));
			return -1;
		}
		made = stable ? o.pos - b->len : o.pos;
		b->len += made;
		stream_progress(b);
		if (populate_behind(pp, b->len))
			zcheck_step(z, 0, SIZE_MAX);
		if (made == 0 && in->pos == before)
			break;
	}
	if (last != 0) {
		set_err(b->err, b->errlen, "%s: truncated zstd stream (%zu bytes decompressed)",
			b->path, b->len);
		return -1;
	}
	return 0;
}

static int unzstd(obuf *b, const uint8_t *src, size_t n)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	int rc = -1;
	zcheck z;

	if (!d) {
		set_err(b->err, b->errlen, "%s: out of memory", b->path);
		return -1;
	}
	zcheck_init(&z, b, src, n);
	unsigned long long known = z.w.known;
	/* a declared size past this machine's memory: said at once */
	if (known != ZSTD_CONTENTSIZE_UNKNOWN && (known > SIZE_MAX || known > b->limit)) {
		obuf_reserve(b, known > SIZE_MAX ? SIZE_MAX : (size_t)known);
		goto out;
	}
	/* Streamed, declared size or not (systemd-coredump's is not): one
	 * path, whose populator keeps just ahead of the decoder (populating
	 * the whole declared size at once, on another CPU, was as fast on
	 * average but stalled up to a second on huge-page compaction) */
	ZSTD_inBuffer in = {src, n, 0};
	populator pp;
	if (stream_start(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24, &pp,
			 zcheck_idle, &z) < 0)
		goto out;
	/* straight into the output when it never moves and the input walked */
	int stable = b->fixed && z.w.frames && ZSTD_versionNumber() >= 10500 &&
		     !ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_stableOutBuffer, 1));
	zcheck_take(&z, d);
	if (atomic_load(&z.active)) {
		/* frame by frame, each one's end in the output told to the checker */
		for (size_t f = 0; f < z.w.nframes; f++) {
			in.size = z.w.frames[f].in_end;
			if (zstd_run(d, b, &in, stable, &z, &pp) < 0)
				goto out_pp;
			z.w.frames[f].out_end = b->len;
			atomic_store_explicit(&z.done, f + 1, memory_order_release);
		}
	} else if (zstd_run(d, b, &in, stable, &z, &pp) < 0) {
		goto out_pp;
	}
	if (known != ZSTD_CONTENTSIZE_UNKNOWN && b->len != known) {
		set_err(b->err, b->errlen, "%s: corrupt zstd stream: %zu bytes where its "
			"frames declare %llu", b->path, b->len, known);
		goto out_pp;
	}
	size_t bad = zcheck_end(&z);
	if (bad) {
		set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s (frame %zu)", b->path,
			ZSTD_getErrorString(ZSTD_error_checksum_wrong), bad);
		goto out_pp;
	}
	rc = 0;
out_pp:
	populate_end(&pp);
out:
	zcheck_free(&z);
	ZSTD_freeDCtx(d);
	return rc;
}

/* ---- lz4 (frame format) ---- */

static int unlz4(obuf *b, const uint8_t *src, size_t n)
{
	LZ4F_dctx *d = NULL;
	size_t off = 0, hint = 1;
	int rc = -1;

	if (n >= 4 && src[0] == 0x02) {
		set_err(b->err, b->errlen, "%s: legacy lz4 format: recompress with `lz4` "
			"(frame format)", b->path);
		return -1;
	}
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
		set_err(b->err, b->errlen, "%s: out of memory", b->path);
		return -1;
	}
	populator pp;
	if (stream_start(b, n * 3 > ((size_t)1 << 24) ? n * 3 : (size_t)1 << 24, &pp,
			 NULL, NULL) < 0)
		goto out;
	while (off < n) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out_pp;
		size_t dst = stream_room(b), used = n - off;
		hint = LZ4F_decompress(d, b->p + b->len, &dst, src + off, &used, NULL);
		if (LZ4F_isError(hint)) {
			set_err(b->err, b->errlen, "%s: corrupt lz4 stream: %s", b->path,
				LZ4F_getErrorName(hint));
			goto out_pp;
		}
		b->len += dst;
		stream_progress(b);
		off += used;
		if (used == 0 && dst == 0)
			break;
	}
	/* output the decoder still buffers */
	while (hint != 0) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out_pp;
		size_t dst = stream_room(b), used = 0;
		hint = LZ4F_decompress(d, b->p + b->len, &dst, src + off, &used, NULL);
		if (LZ4F_isError(hint) || dst == 0)
			break;
		b->len += dst;
	}
	if (LZ4F_isError(hint) || hint != 0) {
		set_err(b->err, b->errlen, "%s: truncated lz4 stream (%zu bytes decompressed)",
			b->path, b->len);
		goto out_pp;
	}
	rc = 0;
out_pp:
	populate_end(&pp);
out:
	LZ4F_freeDecompressionContext(d);
	return rc;
}

/* ---- xz ---- */

static const char *lzma_msg(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 1 GiB to decompress";
	case LZMA_FORMAT_ERROR: return "not an xz stream";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "data is corrupt";
	case LZMA_BUF_ERROR: return "truncated";
	default: return "decoder error";
	}
}

static int unxz(obuf *b, const uint8_t *src, size_t n)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;
	int rc = -1;

	r = lzma_stream_decoder(&s, (uint64_t)1 << 30, LZMA_CONCATENATED);
	if (r != LZMA_OK) {
		set_err(b->err, b->errlen, "%s: xz: %s", b->path, lzma_msg(r));
		return -1;
	}
	populator pp;
	if (stream_start(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24, &pp,
			 NULL, NULL) < 0)
		goto out;
	s.next_in = src;
	s.avail_in = n;
	for (;;) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out_pp;
		size_t room = stream_room(b);
		s.next_out = b->p + b->len;
		s.avail_out = room;
		r = lzma_code(&s, LZMA_FINISH);
		b->len += room - s.avail_out;
		stream_progress(b);
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK)
			continue;
		if (r == LZMA_BUF_ERROR && s.avail_out == 0)
			continue;	/* only room was missing */
		if (r == LZMA_BUF_ERROR)
			set_err(b->err, b->errlen, "%s: truncated xz stream (%zu bytes decompressed)",
				b->path, b->len);
		else
			set_err(b->err, b->errlen, "%s: corrupt xz stream: %s", b->path, lzma_msg(r));
		goto out_pp;
	}
	rc = 0;
out_pp:
	populate_end(&pp);
out:
	lzma_end(&s);
	return rc;
}

const char *core_compression_name(int kind)
{
	switch (kind) {
	case CORE_COMP_ZSTD: return "zstd";
	case CORE_COMP_LZ4: return "lz4";
	case CORE_COMP_XZ: return "xz";
	}
	return "none";
}

int core_decompress(uint8_t **out, size_t *size, int kind, const uint8_t *src, size_t n,
		    const char *path, char *err, size_t errlen)
{
	obuf b = {.limit = memory_limit(), .path = path, .err = err, .errlen = errlen};
	int rc;

	*out = NULL;
	*size = 0;
	switch (kind) {
	case CORE_COMP_ZSTD: rc = unzstd(&b, src, n); break;
	case CORE_COMP_LZ4: rc = unlz4(&b, src, n); break;
	case CORE_COMP_XZ: rc = unxz(&b, src, n); break;
	default:
		set_err(err, errlen, "%s: not compressed", path);
		return -1;
	}
	if (rc == 0)
		rc = obuf_done(&b, out, size);
	obuf_free(&b);
	return rc;
}
