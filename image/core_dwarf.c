/*
 * core_dwarf.c - symbols, sections and DWARF struct layouts of a module.
 *
 * Everything here is lazy: a module costs nothing until the first question.
 * Symbols come from libdwfl (which picks the best table: separate debug
 * info found by build-id, .symtab, or .dynsym); if libdwfl cannot load the
 * module we scan .symtab/.dynsym with libelf ourselves.  Either way the names
 * go into a hash table once, so pyheap's few dozen lookups are O(1).
 *
 * DWARF layouts use an index built on first use over every unit's top-level
 * DIEs: struct/union/enum tags and typedef/base type names -> first complete
 * definition.  Lookups then only walk the one struct's members.  Nothing here
 * recurses on file data; every walk is bounded.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreInt.h"

/* ---- a small string-keyed open-addressing hash ---- */

struct hslot {
	const char *name;	/* borrowed from ELF/DWARF string data */
	uint32_t hash;
	uint32_t idx;		/* index into the owner's value array */
};

struct htab {
	struct hslot *slots;
	size_t mask, used;
};

static uint32_t hstr(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int ht_grow(struct htab *t)
{
	size_t ncap = t->slots ? (t->mask + 1) * 2 : 1024, i;
	struct hslot *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -1;
	for (i = 0; t->slots && i <= t->mask; i++) {
		struct hslot *s = &t->slots[i];
		size_t j;

		if (!s->name)
			continue;
		for (j = s->hash & (ncap - 1); ns[j].name; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *s;
	}
	free(t->slots);
	t->slots = ns;
	t->mask = ncap - 1;
	return 0;
}

/* Returns the slot for name: either holding it, or empty (name == NULL). */
static struct hslot *ht_slot(const struct htab *t, const char *name, uint32_t h)
{
	size_t j;

	if (!t->slots)
		return NULL;
	for (j = h & t->mask; t->slots[j].name; j = (j + 1) & t->mask)
		if (t->slots[j].hash == h && strcmp(t->slots[j].name, name) == 0)
			return &t->slots[j];
	return &t->slots[j];
}

/* Finds or inserts; *isnew says which.  NULL on allocation failure. */
static struct hslot *ht_put(struct htab *t, const char *name, int *isnew)
{
	uint32_t h = hstr(name);
	struct hslot *s;

	if ((!t->slots || (t->used + 1) * 2 > t->mask + 1) && ht_grow(t) < 0)
		return NULL;
	s = ht_slot(t, name, h);
	*isnew = !s->name;
	if (*isnew) {
		s->name = name;
		s->hash = h;
		t->used++;
	}
	return s;
}

static const struct hslot *ht_get(const struct htab *t, const char *name)
{
	const struct hslot *s = ht_slot(t, name, hstr(name));

	return s && s->name ? s : NULL;
}

/* ---- symbols ---- */

struct core_sym {
	uint64_t addr, size;
	int type;
};

struct core_symidx {
	struct htab ht;
	struct core_sym *v;
	size_t n, cap;
	char **aliases;		/* names add_lto_aliases made */
	size_t naliases;
};

struct core_typeidx {
	struct htab tags;	/* struct/union/enum tags */
	struct htab names;	/* typedefs and base types */
	Dwarf_Die *dies;
	size_t n, cap;
};

static const Dwfl_Callbacks offline_cbs = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* The callbacks of a module: its core's search path (--debug-dir,
 * --sysroot), or libdwfl's default for a file opened alone. */
static const Dwfl_Callbacks *callbacks_of(core_module_t *m)
{
	core_t *core = m->core;
	if (!core || !core->debuginfo_path)
		return &offline_cbs;
	if (!core->dwfl_cbs) {
		Dwfl_Callbacks *c = malloc(sizeof *c);
		if (!c)
			return &offline_cbs;
		*c = offline_cbs;
		c->debuginfo_path = &core->debuginfo_path;
		core->dwfl_cbs = c;
	}
	return core->dwfl_cbs;
}

static void ensure_libelf(void)
{
	static int done;

	if (!done) {
		elf_version(EV_CURRENT);
		done = 1;
	}
}

/* Sets up the Dwfl for this module.  0 when usable. */
static int ensure_dwfl(core_module_t *m)
{
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int fd;

	if (m->dwfl_state)
		return m->dwfl_state > 0 ? 0 : -1;
	m->dwfl_state = -1;
	if (!m->map || m->fd < 0 || !m->disk_path)
		return -1;
	ensure_libelf();
	dwfl = dwfl_begin(callbacks_of(m));
	if (!dwfl)
		return -1;
	/* libdwfl takes ownership of the descriptor it is given. */
	fd = dup(m->fd);
	if (fd < 0) {
		dwfl_end(dwfl);
		return -1;
	}
	dwfl_report_begin(dwfl);
	/* add_p_vaddr: base is the load bias, as for p_vaddr-relative ET_DYN. */
	mod = dwfl_report_elf(dwfl, m->name, m->disk_path, fd, m->bias, true);
	if (!mod) {
		close(fd);
		dwfl_end(dwfl);
		return -1;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	m->dwfl = dwfl;
	m->dwmod = mod;
	m->dwfl_state = 1;
	return 0;
}

static Elf *ensure_elf(core_module_t *m)
{
	if (!m->elf && m->fd >= 0) {
		ensure_libelf();
		m->elf = elf_begin(m->fd, ELF_C_READ_MMAP, NULL);
	}
	return m->elf;
}

static int sym_add(struct core_symidx *x, const char *name, uint64_t addr,
		   uint64_t size, int type)
{
	struct hslot *s;
	int isnew;

	if (!name || !*name)
		return 0;
	/* Keep the first definition, but an OBJECT beats an earlier non-OBJECT
	 * (a local function or label of the same name as a variable). */
	s = ht_put(&x->ht, name, &isnew);
	if (!s)
		return -1;
	if (!isnew) {
		struct core_sym *o = &x->v[s->idx];

		if (o->type != STT_OBJECT && type == STT_OBJECT) {
			o->addr = addr;
			o->size = size;
			o->type = type;
		}
		return 0;
	}
	if (x->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 1024;
		struct core_sym *nv = realloc(x->v, ncap * sizeof(*nv));

		if (!nv) {
			/* Undo the insertion: the slot would point past v[]. */
			s->name = NULL;
			x->ht.used--;
			return -1;
		}
		x->v = nv;
		x->cap = ncap;
	}
	x->v[x->n].addr = addr;
	x->v[x->n].size = size;
	x->v[x->n].type = type;
	s->idx = (uint32_t)x->n++;
	return 0;
}

static int wanted_sym(const GElf_Sym *sym)
{
	int t = GELF_ST_TYPE(sym->st_info);

	if (sym->st_shndx == SHN_UNDEF)
		return 0;
	return t == STT_OBJECT || t == STT_FUNC || t == STT_TLS || t == STT_NOTYPE ||
	       t == STT_GNU_IFUNC || t == STT_COMMON;
}

static int syms_from_dwfl(core_module_t *m, struct core_symidx *x)
{
	int n, i;

	if (ensure_dwfl(m) < 0)
		return -1;
	n = dwfl_module_getsymtab(m->dwmod);
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name;

		name = dwfl_module_getsym_info(m->dwmod, i, &sym, &addr, &shndx, NULL, NULL);
		if (!name || !wanted_sym(&sym))
			continue;
		if (sym_add(x, name, addr, sym.st_size, GELF_ST_TYPE(sym.st_info)) < 0)
			return -1;
	}
	return x->n ? 0 : -1;
}

/* Fallback: .symtab then .dynsym of the file itself. */
static int syms_from_elf(core_module_t *m, struct core_symidx *x)
{
	Elf *elf = ensure_elf(m);
	int pass;

	if (!elf)
		return -1;
	for (pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		unsigned want = pass ? SHT_DYNSYM : SHT_SYMTAB;

		while ((scn = elf_nextscn(elf, scn)) != NULL) {
			GElf_Shdr sh;
			Elf_Data *d;
			size_t i, n;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
				continue;
			d = elf_getdata(scn, NULL);
			if (!d)
				continue;
			n = d->d_size / sh.sh_entsize;
			for (i = 0; i < n; i++) {
				GElf_Sym sym;
				const char *name;

				if (!gelf_getsym(d, (int)i, &sym) || !wanted_sym(&sym))
					continue;
				name = elf_strptr(elf, sh.sh_link, sym.st_name);
				/* Section-relative values only make sense for allocated
				 * sections; SHN_ABS stays absolute. */
				if (sym_add(x, name, sym.st_value +
					    (sym.st_shndx == SHN_ABS ? 0 : m->bias),
					    sym.st_size, GELF_ST_TYPE(sym.st_info)) < 0)
					return -1;
			}
		}
	}
	return x->n ? 0 : -1;
}

static void symidx_free(struct core_symidx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->naliases; i++)
		free(x->aliases[i]);
	free(x->aliases);
	free(x->ht.slots);
	free(x->v);
	free(x);
}

/* Statics that link-time optimisation renamed keep their source name
 * before the first '.' ("arenas.lto_priv.0"): index them by it too, where
 * no symbol has that name.  The aliases' names are the index's own. */
static void add_lto_aliases(struct core_symidx *x)
{
	size_t n = 0;
	for (size_t i = 0; i <= x->ht.mask && x->ht.slots; i++) {
		const char *name = x->ht.slots[i].name;
		n += name && strstr(name, ".lto_priv") && name[0] != '.';
	}
	if (!n || !(x->aliases = calloc(n, sizeof *x->aliases)))
		return;
	/* collect first: adding may grow (move) the table */
	struct { char *name; struct core_sym sym; } *add = calloc(n, sizeof *add);
	size_t k = 0;
	for (size_t i = 0; add && i <= x->ht.mask && k < n; i++) {
		const struct hslot *sl = &x->ht.slots[i];
		if (!sl->name || !strstr(sl->name, ".lto_priv") || sl->name[0] == '.')
			continue;
		char *base = strndup(sl->name, strcspn(sl->name, "."));
		if (!base)
			break;
		add[k].name = base;
		add[k++].sym = x->v[sl->idx];
	}
	for (size_t i = 0; i < k; i++) {
		if (ht_get(&x->ht, add[i].name) ||
		    sym_add(x, add[i].name, add[i].sym.addr, add[i].sym.size, add[i].sym.type) < 0) {
			free(add[i].name);
			continue;
		}
		x->aliases[x->naliases++] = add[i].name;
	}
	free(add);
}

int core_module_symbol(core_module_t *m, const char *name, uint64_t *addr, uint64_t *size)
{
	const struct hslot *s;

	if (!m || !name)
		return -1;
	if (m->sym_state == 0) {
		m->sym_state = -1;
		m->syms = calloc(1, sizeof(*m->syms));
		if (!m->syms)
			return -1;
		if (syms_from_dwfl(m, m->syms) == 0 || syms_from_elf(m, m->syms) == 0) {
			m->sym_state = 1;
			add_lto_aliases(m->syms);
		}
	}
	if (m->sym_state < 0)
		return -1;
	s = ht_get(&m->syms->ht, name);
	if (!s)
		return -1;
	if (addr)
		*addr = m->syms->v[s->idx].addr;
	if (size)
		*size = m->syms->v[s->idx].size;
	return 0;
}

/* ---- sections ---- */

int core_module_section(core_module_t *m, const char *name, uint64_t *addr, uint64_t *size)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!m || !name)
		return -1;
	elf = ensure_elf(m);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) < 0)
		return -1;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name) != 0)
			continue;
		if (addr)
			*addr = sh.sh_addr + ((sh.sh_flags & SHF_ALLOC) ? m->bias : 0);
		if (size)
			*size = sh.sh_size;
		return 0;
	}
	return -1;
}

/* ---- DWARF ---- */

static Dwarf *module_dwarf(core_module_t *m)
{
	Dwarf_Addr bias;

	if (ensure_dwfl(m) < 0)
		return NULL;
	return dwfl_module_getdwarf(m->dwmod, &bias);
}

int core_module_has_dwarf(core_module_t *m)
{
	return m && module_dwarf(m) != NULL;
}

const char *core_module_debug_source(core_module_t *m, const char **file)
{
	const char *mainfile = NULL, *debugfile = NULL;

	if (file)
		*file = NULL;
	if (!core_module_has_dwarf(m))
		return NULL;
	dwfl_module_info(m->dwmod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	if (!debugfile || (mainfile && strcmp(debugfile, mainfile) == 0)) {
		/* libdwfl names no file for what the debuginfod client gave it:
		 * DWARF in another ELF than the module's is from elsewhere */
		Dwarf_Addr bias;
		Elf *main_elf = dwfl_module_getelf(m->dwmod, &bias);
		Elf *debug_elf = dwarf_getelf(module_dwarf(m));
		const char *urls = getenv("DEBUGINFOD_URLS");
		if (main_elf && debug_elf && main_elf != debug_elf)
			return urls && *urls ? "debuginfod" : "separate file";
		return "in the file";
	}
	if (file)
		*file = debugfile;
	if (strstr(debugfile, "/debuginfod_client/"))
		return "debuginfod";
	if (strstr(debugfile, "/.build-id/"))
		return "build-id";
	return "debuglink";
}

static int ti_add(struct core_typeidx *x, struct htab *t, const char *name, Dwarf_Die *die)
{
	struct hslot *s;
	int isnew;

	s = ht_put(t, name, &isnew);
	if (!s)
		return -1;
	if (!isnew)
		return 0;	/* first complete definition wins */
	if (x->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 4096;
		Dwarf_Die *nd = realloc(x->dies, ncap * sizeof(*nd));

		if (!nd) {
			s->name = NULL;
			t->used--;
			return -1;
		}
		x->dies = nd;
		x->cap = ncap;
	}
	x->dies[x->n] = *die;
	s->idx = (uint32_t)x->n++;
	return 0;
}

/* Indexes the top-level type DIEs of every unit (C puts all tags there). */
static int index_dwarf(struct core_typeidx *x, Dwarf *dw)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	size_t units = 0;

	while (units++ < (1u << 24) &&
	       dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0) {
		Dwarf_Die die;
		size_t k = 0;

		if (dwarf_child(&cudie, &die) != 0)
			continue;
		do {
			int tag = dwarf_tag(&die);
			const char *name;
			struct htab *t;

			switch (tag) {
			case DW_TAG_structure_type:
			case DW_TAG_union_type:
			case DW_TAG_enumeration_type:
				if (dwarf_hasattr(&die, DW_AT_declaration))
					continue;
				t = &x->tags;
				break;
			case DW_TAG_typedef:
			case DW_TAG_base_type:
				t = &x->names;
				break;
			default:
				continue;
			}
			name = dwarf_diename(&die);
			if (name && *name && ti_add(x, t, name, &die) < 0)
				return -1;
		} while (++k < (1u << 26) && dwarf_siblingof(&die, &die) == 0);
	}
	return 0;
}

static struct core_typeidx *ensure_types(core_module_t *m)
{
	Dwarf *dw, *alt;

	if (m->type_state)
		return m->type_state > 0 ? m->types : NULL;
	m->type_state = -1;
	dw = module_dwarf(m);
	if (!dw)
		return NULL;
	m->types = calloc(1, sizeof(*m->types));
	if (!m->types)
		return NULL;
	if (index_dwarf(m->types, dw) < 0)
		return NULL;
	/* dwz-compressed debug info keeps shared types in the alt file. */
	alt = dwarf_getalt(dw);
	if (alt && index_dwarf(m->types, alt) < 0)
		return NULL;
	m->type_state = 1;
	return m->types;
}

static void typeidx_free(struct core_typeidx *x)
{
	if (!x)
		return;
	free(x->tags.slots);
	free(x->names.slots);
	free(x->dies);
	free(x);
}

static int lookup_tag(struct core_typeidx *x, const char *name, Dwarf_Die *out)
{
	const struct hslot *s = ht_get(&x->tags, name);

	if (!s)
		return -1;
	*out = x->dies[s->idx];
	return 0;
}

/*
 * Follows typedefs and qualifiers to the underlying type.  A struct that is
 * only declared in this unit is replaced by its complete definition from the
 * index.  Bounded: DWARF type chains can be made circular.
 */
static int resolve_type(struct core_typeidx *x, Dwarf_Die *die)
{
	int i;

	for (i = 0; i < 64; i++) {
		Dwarf_Attribute a;
		int tag = dwarf_tag(die);

		switch (tag) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!dwarf_attr_integrate(die, DW_AT_type, &a) ||
			    !dwarf_formref_die(&a, die))
				return -1;	/* e.g. const void */
			continue;
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_enumeration_type:
			if (dwarf_hasattr(die, DW_AT_declaration)) {
				const char *n = dwarf_diename(die);

				if (!n || lookup_tag(x, n, die) < 0)
					return -1;
			}
			return 0;
		default:
			return 0;
		}
	}
	return -1;
}

static int find_type(struct core_typeidx *x, const char *name, Dwarf_Die *out)
{
	const struct hslot *s;
	int tag_only = 0;

	if (strncmp(name, "struct ", 7) == 0) {
		name += 7;
		tag_only = 1;
	} else if (strncmp(name, "union ", 6) == 0) {
		name += 6;
		tag_only = 1;
	} else if (strncmp(name, "enum ", 5) == 0) {
		name += 5;
		tag_only = 1;
	}
	while (*name == ' ')
		name++;
	if (lookup_tag(x, name, out) == 0)
		return 0;
	if (tag_only)
		return -1;
	s = ht_get(&x->names, name);
	if (!s)
		return -1;
	*out = x->dies[s->idx];
	return resolve_type(x, out);
}

static int member_location(Dwarf_Die *mem, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr_integrate(mem, DW_AT_data_member_location, &a)) {
		/* Union members, and DWARF 4+ bit-fields. */
		if (dwarf_attr_integrate(mem, DW_AT_data_bit_offset, &a) &&
		    dwarf_formudata(&a, &w) == 0) {
			*off = w / 8;
			return 0;
		}
		*off = 0;
		return 0;
	}
	if (dwarf_formudata(&a, &w) == 0) {
		*off = w;
		return 0;
	}
	/* Old compilers: a location expression "DW_OP_plus_uconst N". */
	{
		Dwarf_Op *ops;
		size_t n;

		if (dwarf_getlocation(&a, &ops, &n) == 0 && n == 1 &&
		    ops[0].atom == DW_OP_plus_uconst) {
			*off = ops[0].number;
			return 0;
		}
	}
	return -1;
}

static int is_aggregate(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/*
 * Finds member `name` of the struct/union `agg`: directly, else inside
 * anonymous struct/union members (breadth-first, bounded queue).  On success
 * *off is the offset from agg's start and *mem the member DIE.
 */
static int find_member(struct core_typeidx *x, const Dwarf_Die *agg, const char *name,
		       size_t namelen, uint64_t *off, Dwarf_Die *mem)
{
	struct { Dwarf_Die die; uint64_t base; } q[64];
	size_t head = 0, tail = 0, visited = 0;

	q[tail].die = *agg;
	q[tail].base = 0;
	tail++;
	while (head < tail) {
		Dwarf_Die parent = q[head].die, c;
		uint64_t base = q[head].base;

		head++;
		if (dwarf_child(&parent, &c) != 0)
			continue;
		do {
			const char *n;
			uint64_t o;

			if (++visited > 100000)
				return -1;
			if (dwarf_tag(&c) != DW_TAG_member)
				continue;
			n = dwarf_diename(&c);
			if (n && strlen(n) == namelen && memcmp(n, name, namelen) == 0) {
				if (member_location(&c, &o) < 0)
					return -1;
				*off = base + o;
				*mem = c;
				return 0;
			}
			if (!n && tail < sizeof(q) / sizeof(q[0])) {
				Dwarf_Attribute a;
				Dwarf_Die t;

				if (!dwarf_attr_integrate(&c, DW_AT_type, &a) ||
				    !dwarf_formref_die(&a, &t) || resolve_type(x, &t) < 0 ||
				    !is_aggregate(dwarf_tag(&t)) || member_location(&c, &o) < 0)
					continue;
				q[tail].die = t;
				q[tail].base = base + o;
				tail++;
			}
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	return -1;
}

int core_module_type_size(core_module_t *m, const char *type_name, uint64_t *out)
{
	struct core_typeidx *x;
	Dwarf_Die die;
	Dwarf_Word sz;

	if (!m || !type_name || !(x = ensure_types(m)))
		return -1;
	if (find_type(x, type_name, &die) < 0 || dwarf_aggregate_size(&die, &sz) != 0)
		return -1;
	*out = sz;
	return 0;
}

int core_module_member_offset(core_module_t *m, const char *type_name,
			      const char *member_path, uint64_t *out)
{
	struct core_typeidx *x;
	Dwarf_Die die;
	const char *p;
	uint64_t total = 0;
	int depth = 0;

	if (!m || !type_name || !member_path || !(x = ensure_types(m)))
		return -1;
	if (find_type(x, type_name, &die) < 0)
		return -1;
	/* "a." and "" name no member. */
	if (!*member_path || member_path[strlen(member_path) - 1] == '.')
		return -1;
	p = member_path;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		Dwarf_Die mem;
		Dwarf_Attribute a;
		uint64_t o;

		if (len == 0 || ++depth > 64)
			return -1;
		if (resolve_type(x, &die) < 0 || !is_aggregate(dwarf_tag(&die)))
			return -1;
		if (find_member(x, &die, p, len, &o, &mem) < 0)
			return -1;
		if (total + o < total)
			return -1;
		total += o;
		if (!dot)
			break;
		if (!dwarf_attr_integrate(&mem, DW_AT_type, &a) || !dwarf_formref_die(&a, &die))
			return -1;
		p = dot + 1;
	}
	if (depth == 0)
		return -1;
	*out = total;
	return 0;
}

void core_dwarf_release(core_module_t *m)
{
	typeidx_free(m->types);
	m->types = NULL;
	symidx_free(m->syms);
	m->syms = NULL;
	if (m->dwfl)
		dwfl_end(m->dwfl);
	m->dwfl = NULL;
	m->dwmod = NULL;
	if (m->elf)
		elf_end(m->elf);
	m->elf = NULL;
}

const char *core_module_addr_name(core_module_t *m, uint64_t addr, uint64_t *off)
{
	GElf_Off o = 0;
	GElf_Sym sym;
	const char *name;

	if (!m || ensure_dwfl(m) < 0)
		return NULL;
	name = dwfl_module_addrinfo(m->dwmod, addr, &o, &sym, NULL, NULL, NULL);
	if (!name)
		return NULL;
	if (off)
		*off = o;
	return name;
}

void core_module_symbol_each(core_module_t *m, core_sym_fn fn, void *payload)
{
	if (!m)
		return;
	core_module_symbol(m, "", NULL, NULL);   /* builds the index on first use */
	if (m->sym_state <= 0)
		return;
	for (size_t i = 0; i <= m->syms->ht.mask && m->syms->ht.slots; i++) {
		const struct hslot *s = &m->syms->ht.slots[i];
		if (s->name)
			fn(s->name, m->syms->v[s->idx].addr, m->syms->v[s->idx].size, payload);
	}
}
