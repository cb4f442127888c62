/*
 * json.h - a streaming JSON writer for --json output.
 *
 * Keeps a small stack of "first element?" flags so commas come out right;
 * strings are escaped per RFC 8259 (and bytes that are not valid UTF-8 as
 * \u00XX, so output from a corrupt heap is still valid JSON).
 */
#ifndef PYHEAP_JSON_H
#define PYHEAP_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct json_w {
	FILE *f;
	int depth;
	unsigned char first[64];
	int pending_key;
} json_w;

void json_init(json_w *w, FILE *f);
void json_obj(json_w *w);           /* { */
void json_obj_end(json_w *w);       /* } */
void json_arr(json_w *w);           /* [ */
void json_arr_end(json_w *w);       /* ] */
void json_key(json_w *w, const char *k);
void json_str(json_w *w, const char *s);
void json_u64(json_w *w, uint64_t v);
void json_i64(json_w *w, int64_t v);
void json_bool(json_w *w, int v);
void json_hex(json_w *w, uint64_t v); /* "0x7f..." as a string */
void json_f64(json_w *w, double v);   /* 4 significant digits; 0 for NaN/inf */
/* key + value shorthands */
void json_kstr(json_w *w, const char *k, const char *s);
void json_ku64(json_w *w, const char *k, uint64_t v);
void json_ki64(json_w *w, const char *k, int64_t v);
void json_kbool(json_w *w, const char *k, int v);
void json_khex(json_w *w, const char *k, uint64_t v);
void json_kf64(json_w *w, const char *k, double v);
void json_end(json_w *w);           /* final newline */

#endif
