/*
 * dot.h - Graphviz output for the reference graph.
 *
 * The command layer describes nodes and edges with the text it wants shown;
 * this module builds the graph with libcgraph and writes it: `.dot` with
 * agwrite(), `.svg`, `.png` and `.pdf` rendered in-process with libgvc (dot
 * layout).  Knows nothing of Python or cores.
 *
 * Ownership: rg_dot_new() gives the caller an rg_dot, freed with
 * rg_dot_free().  Strings passed in are copied.
 */
#ifndef PYHEAP_DOT_H
#define PYHEAP_DOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct rg_dot rg_dot;

enum {
	RG_DOT_TARGET = 1,    /* the objects asked about: filled */
	RG_DOT_ROOT = 2,      /* a root: highlighted */
	RG_DOT_MODULE = 4,    /* a module: boxed differently */
	RG_DOT_GROUP = 8,     /* stands for several nodes: a stack of boxes */
	RG_DOT_MORE = 16,     /* what was left out: a grey dashed note */
};
enum {
	RG_DOT_DASHED = 1,    /* a weak reference */
	RG_DOT_DOTTED = 2,    /* a conservative (guessed) reference */
};

int rg_dot_new(rg_dot **out, const char *graph_name);
void rg_dot_free(rg_dot *d);
/* Adds node `key` (any caller id, unique) with a multi-line label ('\n'
 * separates lines).  -1 when out of memory. */
int rg_dot_node(rg_dot *d, uint64_t key, const char *label, unsigned style);
/* A node's tooltip (SVG title) and link (SVG/PDF href); either may be
 * NULL.  -1 when out of memory or the node is unknown. */
int rg_dot_node_info(rg_dot *d, uint64_t key, const char *tooltip, const char *url);
/* A legend of the styles above, as a cluster of its own; each caption
 * says what the style means in the caller's terms (NULL: not shown):
 * captions[0] target, [1] root, [2] module, [3] group, [4] more, [5] a
 * plain edge, [6] dashed, [7] dotted.  -1 when out of memory. */
int rg_dot_legend(rg_dot *d, const char *const captions[8]);
/* Adds an edge between two nodes added before; label may be NULL. */
int rg_dot_edge(rg_dot *d, uint64_t from, uint64_t to, const char *label, unsigned style);
/* Writes to path; the format follows its extension (.dot .gv .svg .png
 * .pdf).  -1 with a one-line message in err (unknown extension, cannot
 * write, Graphviz failed). */
int rg_dot_write(rg_dot *d, const char *path, char *err, size_t errlen);

#endif
