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
 * decoder's own is the page faults (one trap and one zeroed page per 4 KiB).
 * When the size is known, a second thread asks the kernel to populate the
 * output (MADV_POPULATE_WRITE, Linux 5.14) a chunk at a time, ahead of the
 * decoder, on another CPU.  It never writes: what it populates keeps what
 * the decoder wrote.  On an older kernel it stops at once. */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define POPULATE_CHUNK ((size_t)16 << 20)

typedef struct populator {
	uint8_t *p;
	size_t len;
	atomic_int stop;
	pthread_t thread;
	int running;
} populator;

static void *populate(void *arg)
{
	populator *pp = arg;

	for (size_t off = 0; off < pp->len && !atomic_load(&pp->stop); off += POPULATE_CHUNK) {
		size_t n = pp->len - off < POPULATE_CHUNK ? pp->len - off : POPULATE_CHUNK;

		if (madvise(pp->p + off, n, MADV_POPULATE_WRITE) < 0)
			break;
	}
	return NULL;
}

static void populate_start(populator *pp, uint8_t *p, size_t len)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(pp, 0, sizeof *pp);
	pp->p = p;
	pp->len = page_round(len);
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

/* ---- zstd ---- */

/* Sum of the frames' declared sizes when every frame declares one and is
 * complete (then each frame is decompressed in one call, straight into
 * place, with no window buffer); ZSTD_CONTENTSIZE_UNKNOWN otherwise. */
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
	if (known != ZSTD_CONTENTSIZE_UNKNOWN) {
		size_t off = 0;

		populator pp;

		if (known > SIZE_MAX || obuf_reserve(b, known ? (size_t)known : 1) < 0)
			goto out;
		populate_start(&pp, b->p, (size_t)known);
		while (off < n) {
			size_t fl = ZSTD_findFrameCompressedSize(src + off, n - off);
			size_t got = ZSTD_decompressDCtx(d, b->p + b->len, b->cap - b->len, src + off, fl);

			if (ZSTD_isError(got)) {
				populate_end(&pp);
				set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
					ZSTD_getErrorName(got));
				goto out;
			}
			b->len += got;
			off += fl;
		}
		populate_end(&pp);
		if (b->len != known) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %zu bytes where its "
				"frames declare %llu", b->path, b->len, known);
			goto out;
		}
		rc = 0;
		goto out;
	}
	/* Streaming: the size is not declared (systemd-coredump, a pipe). */
	ZSTD_inBuffer in = {src, n, 0};
	size_t last = 1;
	if (obuf_reserve(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24) < 0)
		goto out;
	while (in.pos < in.size) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out;
		ZSTD_outBuffer o = {b->p + b->len, b->cap - b->len, 0};
		last = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(last)) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
				ZSTD_getErrorName(last));
			goto out;
		}
		b->len += o.pos;
		if (o.pos == 0 && in.pos == in.size)
			break;
	}
	/* the input is consumed; flush what the decoder still holds */
	while (last != 0) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out;
		ZSTD_outBuffer o = {b->p + b->len, b->cap - b->len, 0};
		last = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(last)) {
			set_err(b->err, b->errlen, "%s: corrupt zstd stream: %s", b->path,
				ZSTD_getErrorName(last));
			goto out;
		}
		b->len += o.pos;
		if (o.pos == 0)
			break;
	}
	if (last != 0) {
		set_err(b->err, b->errlen, "%s: truncated zstd stream (%zu bytes decompressed)",
			b->path, b->len);
		goto out;
	}
	rc = 0;
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
	{
		LZ4F_frameInfo_t fi;
		size_t consumed = n;

		memset(&fi, 0, sizeof fi);
		/* peek at the declared size without consuming: a separate context */
		LZ4F_dctx *peek = NULL;
		if (!LZ4F_isError(LZ4F_createDecompressionContext(&peek, LZ4F_VERSION))) {
			if (!LZ4F_isError(LZ4F_getFrameInfo(peek, &fi, src, &consumed)) &&
			    fi.contentSize && fi.contentSize <= SIZE_MAX && fi.contentSize <= b->limit)
				obuf_reserve(b, (size_t)fi.contentSize);
			LZ4F_freeDecompressionContext(peek);
		}
	}
	if (obuf_reserve(b, n * 3 > ((size_t)1 << 24) ? n * 3 : (size_t)1 << 24) < 0)
		goto out;
	while (off < n) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out;
		size_t dst = b->cap - b->len, used = n - off;
		hint = LZ4F_decompress(d, b->p + b->len, &dst, src + off, &used, NULL);
		if (LZ4F_isError(hint)) {
			set_err(b->err, b->errlen, "%s: corrupt lz4 stream: %s", b->path,
				LZ4F_getErrorName(hint));
			goto out;
		}
		b->len += dst;
		off += used;
		if (used == 0 && dst == 0)
			break;
	}
	/* output the decoder still buffers */
	while (hint != 0) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out;
		size_t dst = b->cap - b->len, used = 0;
		hint = LZ4F_decompress(d, b->p + b->len, &dst, src + off, &used, NULL);
		if (LZ4F_isError(hint) || dst == 0)
			break;
		b->len += dst;
	}
	if (LZ4F_isError(hint) || hint != 0) {
		set_err(b->err, b->errlen, "%s: truncated lz4 stream (%zu bytes decompressed)",
			b->path, b->len);
		goto out;
	}
	rc = 0;
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
	if (obuf_reserve(b, n * 4 > ((size_t)1 << 24) ? n * 4 : (size_t)1 << 24) < 0)
		goto out;
	s.next_in = src;
	s.avail_in = n;
	for (;;) {
		if (b->len == b->cap && obuf_reserve(b, b->cap + 1) < 0)
			goto out;
		s.next_out = b->p + b->len;
		s.avail_out = b->cap - b->len;
		r = lzma_code(&s, LZMA_FINISH);
		b->len = b->cap - s.avail_out;
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
		goto out;
	}
	rc = 0;
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
