/* json.c - see json.h. */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void json_init(json_w *w, FILE *f)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->first[0] = 1;
}

/* Comma before a value unless it is the first in its container or follows
 * its key. */
static void sep(json_w *w)
{
	if (w->pending_key) {
		w->pending_key = 0;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
}

static void open_c(json_w *w, char c)
{
	sep(w);
	fputc(c, w->f);
	if (w->depth + 1 < (int)sizeof w->first)
		w->depth++;
	w->first[w->depth] = 1;
}

static void close_c(json_w *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
}

void json_obj(json_w *w) { open_c(w, '{'); }
void json_obj_end(json_w *w) { close_c(w, '}'); }
void json_arr(json_w *w) { open_c(w, '['); }
void json_arr_end(json_w *w) { close_c(w, ']'); }

/* Length of the valid UTF-8 sequence at s, or 0: no overlong forms (C0,
 * C1, E0 80-9F, F0 80-8F), no surrogates (ED A0-BF), nothing past U+10FFFF
 * (F4 90-BF, F5-FF), which a JSON reader would refuse. */
static int utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	if (n && (s[1] < lo || s[1] > hi))
		return 0;
	for (int i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void put_string(json_w *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', w->f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', w->f);
			fputc(*p++, w->f);
		} else if (*p < 0x20) {
			fprintf(w->f, "\\u%04x", *p++);
		} else {
			int n = utf8_len(p);
			if (n == 0) {
				fprintf(w->f, "\\u%04x", *p++);
			} else {
				fwrite(p, 1, (size_t)n, w->f);
				p += n;
			}
		}
	}
	fputc('"', w->f);
}

void json_key(json_w *w, const char *k)
{
	sep(w);
	put_string(w, k);
	fputc(':', w->f);
	w->pending_key = 1;
}

void json_str(json_w *w, const char *s) { sep(w); put_string(w, s); }
void json_u64(json_w *w, uint64_t v) { sep(w); fprintf(w->f, "%" PRIu64, v); }
void json_i64(json_w *w, int64_t v) { sep(w); fprintf(w->f, "%" PRId64, v); }
void json_bool(json_w *w, int v) { sep(w); fputs(v ? "true" : "false", w->f); }
void json_hex(json_w *w, uint64_t v) { sep(w); fprintf(w->f, "\"0x%" PRIx64 "\"", v); }
/* finite, 4 decimals at most: 53.9521 */
void json_f64(json_w *w, double v) { sep(w); fprintf(w->f, "%.4g", v == v && v - v == 0 ? v : 0); }
void json_kstr(json_w *w, const char *k, const char *s) { json_key(w, k); json_str(w, s); }
void json_ku64(json_w *w, const char *k, uint64_t v) { json_key(w, k); json_u64(w, v); }
void json_ki64(json_w *w, const char *k, int64_t v) { json_key(w, k); json_i64(w, v); }
void json_kbool(json_w *w, const char *k, int v) { json_key(w, k); json_bool(w, v); }
void json_khex(json_w *w, const char *k, uint64_t v) { json_key(w, k); json_hex(w, v); }
void json_kf64(json_w *w, const char *k, double v) { json_key(w, k); json_f64(w, v); }
void json_end(json_w *w) { fputc('\n', w->f); }
