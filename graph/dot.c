/*
 * dot.c - Graphviz output: a libcgraph graph, written with agwrite() or
 * laid out and rendered in-process by libgvc.
 *
 * Nodes are named "n<key>".  Labels are stored as Graphviz escString text:
 * a user backslash becomes "\\" (else "\n", "\l", "\N"... in user text
 * would be interpreted), '\n' becomes the "\n" line break, other control
 * characters and bytes that are not valid UTF-8 become '?'.  Quotes are
 * escaped by agwrite() itself; '<' and '&' need nothing in plain (non-HTML)
 * labels and the SVG renderer escapes them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "dot.h"

struct rg_dot {
	Agraph_t *g;
};

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The escString form of text (see above); NULL when out of memory. */
static char *label_escape(const char *text)
{
	size_t n = strlen(text);
	if (n > (SIZE_MAX - 1) / 2)
		return NULL;
	char *out = malloc(2 * n + 1), *o = out;
	if (!out)
		return NULL;
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		if (*s == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			s++;
		} else if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			*o++ = '?';
			s++;
		} else {
			size_t len = utf8_len(s);
			if (len == 0) {
				*o++ = '?';
				s++;
			} else {
				memcpy(o, s, len);
				o += len;
				s += len;
			}
		}
	}
	*o = 0;
	return out;
}

static void node_name(char *buf, size_t cap, uint64_t key)
{
	snprintf(buf, cap, "n%" PRIu64, key);
}

/* agsafeset() with literal attribute names (cgraph takes char *). */
static int set(void *obj, const char *name, const char *value, const char *def)
{
	return agsafeset(obj, (char *)name, (char *)value, (char *)def);
}

int rg_dot_new(rg_dot **out, const char *graph_name)
{
	*out = NULL;
	rg_dot *d = calloc(1, sizeof *d);
	if (!d)
		return -1;
	char *name = strdup(graph_name && *graph_name ? graph_name : "pyheap");
	if (!name) {
		free(d);
		return -1;
	}
	d->g = agopen(name, Agdirected, NULL);
	free(name);
	if (!d->g) {
		free(d);
		return -1;
	}
	/* Defaults declared once; fontname keeps renderers deterministic. */
	agattr(d->g, AGRAPH, (char *)"rankdir", (char *)"BT");
	agattr(d->g, AGNODE, (char *)"fontname", (char *)"Helvetica");
	agattr(d->g, AGEDGE, (char *)"fontname", (char *)"Helvetica");
	agattr(d->g, AGEDGE, (char *)"fontsize", (char *)"10");
	*out = d;
	return 0;
}

void rg_dot_free(rg_dot *d)
{
	if (!d)
		return;
	if (d->g)
		agclose(d->g);
	free(d);
}

/* A node added twice keeps its node and takes the new label and style. */
int rg_dot_node(rg_dot *d, uint64_t key, const char *label, unsigned style)
{
	char name[32];
	node_name(name, sizeof name, key);
	Agnode_t *n = agnode(d->g, name, 1);
	if (!n)
		return -1;
	char *lab = label_escape(label ? label : "");
	if (!lab)
		return -1;
	int rc = set(n, "label", lab, "\\N");
	free(lab);

	char st[32] = "";
	if (style & RG_DOT_TARGET)
		strcat(st, "filled");
	if (style & RG_DOT_ROOT)
		strcat(st, *st ? ",bold" : "bold");
	rc |= set(n, "style", st, "");
	rc |= set(n, "fillcolor", (style & RG_DOT_TARGET) ? "lightblue" : "lightgrey", "lightgrey");
	rc |= set(n, "color", (style & RG_DOT_ROOT) ? "red" : "black", "black");
	rc |= set(n, "penwidth", (style & RG_DOT_ROOT) ? "2" : "1", "1");
	rc |= set(n, "shape", (style & RG_DOT_MODULE) ? "box" : (style & RG_DOT_GROUP) ? "box3d" :
		  (style & RG_DOT_MORE) ? "note" : "ellipse", "ellipse");
	if (style & RG_DOT_MORE) {
		rc |= set(n, "style", (style & RG_DOT_TARGET) ? "filled,dashed" : "dashed", "");
		rc |= set(n, "fontcolor", "gray30", "black");
	}
	return rc ? -1 : 0;
}

int rg_dot_node_info(rg_dot *d, uint64_t key, const char *tooltip, const char *url)
{
	char name[32];
	node_name(name, sizeof name, key);
	Agnode_t *n = agnode(d->g, name, 0);
	if (!n)
		return -1;
	int rc = 0;
	if (tooltip) {
		char *t = label_escape(tooltip);
		if (!t)
			return -1;
		rc |= set(n, "tooltip", t, "");
		free(t);
	}
	if (url) {
		char *u = label_escape(url);
		if (!u)
			return -1;
		rc |= set(n, "URL", u, "");
		free(u);
	}
	return rc ? -1 : 0;
}

/* text with HTML's specials escaped (for an HTML-like label), appended
 * at *o within cap; 0, or -1 when it does not fit */
static int html_append(char *buf, size_t cap, size_t *o, const char *text)
{
	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		const char *rep = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" :
				  *s == '"' ? "&quot;" : *s == '\n' ? "<BR/>" : NULL;
		size_t len = rep ? strlen(rep) : 1;
		if (*o + len + 1 > cap)
			return -1;
		if (rep)
			memcpy(buf + *o, rep, len);
		else
			buf[*o] = (char)(*s < 0x20 ? '?' : *s);
		*o += len;
	}
	buf[*o] = 0;
	return 0;
}

int rg_dot_legend(rg_dot *d, const char *const captions[8])
{
	/* one node, a table: each style drawn in words beside its meaning */
	static const char *const looks[8] = {
		"<TD BGCOLOR=\"lightblue\">filled</TD>",
		"<TD COLOR=\"red\"><B>red</B></TD>",
		"<TD>box</TD>",
		"<TD>3-D box</TD>",
		"<TD STYLE=\"dashed\"><FONT COLOR=\"gray30\">dashed note</FONT></TD>",
		"<TD BORDER=\"0\">\u2500\u2500\u25b6</TD>",
		"<TD BORDER=\"0\">\u2504\u2504\u25b6</TD>",
		"<TD BORDER=\"0\">\u00b7\u00b7\u00b7\u25b6</TD>",
	};
	char html[4096];
	size_t o = 0;
	o += (size_t)snprintf(html, sizeof html, "<TABLE BORDER=\"1\" CELLBORDER=\"1\" "
			      "CELLSPACING=\"3\" CELLPADDING=\"3\"><TR><TD COLSPAN=\"2\" "
			      "BORDER=\"0\"><B>legend</B></TD></TR>");
	for (int i = 0; i < 8; i++) {
		if (!captions[i])
			continue;
		if (o + strlen(looks[i]) + 64 > sizeof html)
			return -1;
		o += (size_t)snprintf(html + o, sizeof html - o, "<TR>%s<TD BORDER=\"0\" "
				      "ALIGN=\"LEFT\">", looks[i]);
		if (html_append(html, sizeof html, &o, captions[i]) < 0 || o + 32 > sizeof html)
			return -1;
		o += (size_t)snprintf(html + o, sizeof html - o, "</TD></TR>");
	}
	if (o + 16 > sizeof html)
		return -1;
	snprintf(html + o, sizeof html - o, "</TABLE>");
	Agnode_t *n = agnode(d->g, (char *)"legend", 1);
	if (!n)
		return -1;
	char *h = agstrdup_html(d->g, html);
	if (!h)
		return -1;
	int rc = set(n, "label", h, "\\N");
	agstrfree(d->g, h);
	rc |= set(n, "shape", "plaintext", "ellipse");
	rc |= set(n, "style", "", "");
	rc |= set(n, "tooltip", "what the shapes and lines mean", "");
	return rc ? -1 : 0;
}

int rg_dot_edge(rg_dot *d, uint64_t from, uint64_t to, const char *label, unsigned style)
{
	char a[32], b[32];
	node_name(a, sizeof a, from);
	node_name(b, sizeof b, to);
	Agnode_t *t = agnode(d->g, a, 0), *h = agnode(d->g, b, 0);
	if (!t || !h)
		return -1;
	Agedge_t *e = agedge(d->g, t, h, NULL, 1);
	if (!e)
		return -1;
	int rc = 0;
	if (label) {
		char *lab = label_escape(label);
		if (!lab)
			return -1;
		rc |= set(e, "label", lab, "");
		free(lab);
	}
	const char *st = (style & RG_DOT_DASHED) ? "dashed" : (style & RG_DOT_DOTTED) ? "dotted" : "";
	rc |= set(e, "style", st, "");
	return rc ? -1 : 0;
}

static int write_dot(rg_dot *d, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	int rc = agwrite(d->g, f);
	if (fclose(f) != 0 || rc != 0) {
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	return 0;
}

/* The last Graphviz error, first line only, or fallback. */
static void gv_error(char *err, size_t errlen, const char *what, const char *path)
{
	char *last = aglasterr();
	if (last) {
		char *nl = strchr(last, '\n');
		if (nl)
			*nl = 0;
		snprintf(err, errlen, "%s %s: %s", what, path, last);
		free(last);
	} else {
		snprintf(err, errlen, "%s %s: Graphviz failed", what, path);
	}
}

/*
 * One Graphviz context for the whole process, made on first use and never
 * freed.  Graphviz 2.42 cannot take a second context after a first was
 * freed: the pango text-layout plugin keeps a static pointer to the last
 * font name, which lives in the freed context's font dictionary (a
 * use-after-free on the next layout, found by ASan).
 */
static GVC_t *gv_context(void)
{
	static GVC_t *gvc;
	if (!gvc)
		gvc = gvContext();
	return gvc;
}

static int render(rg_dot *d, const char *fmt, const char *path, char *err, size_t errlen)
{
	/* Check writability first: Graphviz only warns about it. */
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	fclose(f);

	GVC_t *gvc = gv_context();
	if (!gvc) {
		snprintf(err, errlen, "cannot start Graphviz for %s", path);
		return -1;
	}
	int rc = -1;
	agerrlevel_t old = agseterr(AGMAX);  /* errors kept for aglasterr(), not printed */
	if (gvLayout(gvc, d->g, "dot") != 0) {
		gv_error(err, errlen, "cannot lay out", path);
	} else {
		if (gvRenderFilename(gvc, d->g, fmt, path) != 0)
			gv_error(err, errlen, "cannot render", path);
		else
			rc = 0;
		gvFreeLayout(gvc, d->g);
	}
	agseterr(old);
	return rc;
}

int rg_dot_write(rg_dot *d, const char *path, char *err, size_t errlen)
{
	if (errlen)
		*err = 0;
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash)) {
		snprintf(err, errlen, "%s: no extension (want .dot .gv .svg .png or .pdf)", path);
		return -1;
	}
	const char *ext = dot + 1;
	if (!strcasecmp(ext, "dot") || !strcasecmp(ext, "gv"))
		return write_dot(d, path, err, errlen);
	if (!strcasecmp(ext, "svg"))
		return render(d, "svg", path, err, errlen);
	if (!strcasecmp(ext, "png"))
		return render(d, "png", path, err, errlen);
	if (!strcasecmp(ext, "pdf"))
		return render(d, "pdf", path, err, errlen);
	snprintf(err, errlen, "%s: unknown extension .%s (want .dot .gv .svg .png or .pdf)", path, ext);
	return -1;
}
