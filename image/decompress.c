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
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

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
			struct timespec ts = {0, 200 * 1000};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&pp->stop) || madvise(pp->p + off, n, MADV_POPULATE_WRITE) < 0)
			break;
	}
	return NULL;
}

static void populate_start(populator *pp, uint8_t *p, size_t len, atomic_size_t *progress)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(pp, 0, sizeof *pp);
	pp->p = p;
	pp->len = page_round(len);
	pp->progress = progress;
	atomic_init(&pp->stop, 0);
	/* only worth a thread for a big core on a machine with a CPU to spare */
	if (cpus > 1 && len >= ((size_t)64 << 20))
		pp->running = pthread_create(&pp->thread, NULL, populate, pp) == 0;
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
static int stream_start(obuf *b, size_t first, populator *pp)
{
	void *m = mmap(NULL, b->limit, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	memset(pp, 0, sizeof *pp);
	if (m == MAP_FAILED)
		return obuf_reserve(b, first);
	b->p = m;
	b->cap = b->limit;
	atomic_store(&b->progress, 0);
	populate_start(pp, b->p, b->cap, &b->progress);
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
	atomic_store_explicit(&b->progress, b->len, memory_order_relaxed);
}

/* ---- zstd ---- */

/* Sum of the frames' declared sizes when every frame declares one and is
 * complete (the output must then have that size);
 * ZSTD_CONTENTSIZE_UNKNOWN otherwise. */
static unsigned long long zstd_known_size(const uint8_t *src, size_t n)
{
	unsigned long long total = 0;
	size_t off = 0;

	while (off < n) {
		unsigned long long cs = ZSTD_getFrameContentSize(src + off, n - off);
		size_t fl = ZSTD_findFrameCompressedSize(src + off, n - off);

		if (ZSTD_isError(fl) || cs == ZSTD_CONTENTSIZE_UNKNOWN || cs == ZSTD_CONTENTSIZE_ERROR)
			return ZSTD_CONTENTSIZE_UNKNOWN;
		if (total + cs < total)
			return ZSTD_CONTENTSIZE_UNKNOWN;
		total += cs;
		off += fl;
	}
	return total;
}

static int unzstd(obuf *b, const uint8_t *src, size_t n)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	unsigned long long known = zstd_known_size(src, n);
	int rc = -1;

	if (!d) {
		set_err(b->err, b->errlen, "%s: out of memory", b->path);
		return -1;
	}
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
	size_t last = 1;
	populator pp;
	if (stream_start(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24, &pp) < 0)
		goto out;
	while (in.pos < in.size) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out_pp;
		ZSTD_outBuffer o = {b->p + b->len, stream_room(b), 0};
		last = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(last)) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
				ZSTD_getErrorName(last));
			goto out_pp;
		}
		b->len += o.pos;
		stream_progress(b);
		if (o.pos == 0 && in.pos == in.size)
			break;
	}
	/* the input is consumed; flush what the decoder still holds */
	while (last != 0) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out_pp;
		ZSTD_outBuffer o = {b->p + b->len, stream_room(b), 0};
		last = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(last)) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
				ZSTD_getErrorName(last));
			goto out_pp;
		}
		b->len += o.pos;
		stream_progress(b);
		if (o.pos == 0)
			break;
	}
	if (last != 0) {
		set_err(b->err, b->errlen, "%s: truncated zstd stream (%zu bytes decompressed)",
			b->path, b->len);
		goto out_pp;
	}
	if (known != ZSTD_CONTENTSIZE_UNKNOWN && b->len != known) {
		set_err(b->err, b->errlen, "%s: corrupt zstd stream: %zu bytes where its "
			"frames declare %llu", b->path, b->len, known);
		goto out_pp;
	}
	rc = 0;
out_pp:
	populate_end(&pp);
out:
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
	if (stream_start(b, n * 3 > ((size_t)1 << 24) ? n * 3 : (size_t)1 << 24, &pp) < 0)
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
	if (stream_start(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24, &pp) < 0)
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
