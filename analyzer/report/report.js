/*
 * report.js - draws `pyheap report`'s page from the JSON document embedded
 * in it (#pyheap-data, written by analyzer/cmd_report.c).  Vanilla JS, no
 * library, nothing fetched: every string of the core goes into the page as
 * text (textContent), never as markup.
 *
 * The document: info (as `info --json`), types and retained_types (type
 * index, count, bytes), top (the biggest retainers), tree (the dominator
 * tree cut to its biggest nodes: [parent, object, retained, others,
 * others_bytes]), suspects (and with a baseline, growth), stacks, arenas
 * (size classes, a pool map per arena, the pinned arenas), memory, panels
 * (refcount, chain, referents, referrers of the first objects) and objects
 * ([address, type index, size, retained, value]; address "" for a virtual
 * node, whose value is its name).  An object is named by its index in
 * objects, or by its address (a string) when the table was full.
 *
 * Addresses: #obj-0x7f... opens an object's panel, so other pages (the
 * SVGs of `pyheap backrefs`) can link into the report; #types etc. pick a
 * section (shown alone: the sections are tabs, their elements #sec-NAME).
 */
(function () {
	'use strict';

	const D = JSON.parse(document.getElementById('pyheap-data').textContent);
	const OBJ = D.objects || [];
	const TN = D.typenames || [];
	const PANELS = D.panels || [];
	const byAddr = new Map();
	OBJ.forEach(function (o, i) { if (o[0]) byAddr.set(o[0], i); });
	const SECTIONS = ['overview', 'memory', 'types', 'dominators', 'suspects', 'stacks', 'arenas'];

	/* ---- small helpers ---- */

	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}
	function add(parent) {
		for (let i = 1; i < arguments.length; i++) {
			const c = arguments[i];
			if (c === null || c === undefined)
				continue;
			parent.appendChild(typeof c === 'string' || typeof c === 'number' ?
				document.createTextNode(String(c)) : c);
		}
		return parent;
	}
	/* appends child to parent; returns the child */
	function put(parent, child) {
		parent.appendChild(child);
		return child;
	}
	function num(v) {
		return Number(v).toLocaleString('en-US');
	}
	/* as cmd_bytes: "812 B", "1.2 MiB" */
	function bytes(v) {
		const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let d = Number(v), i = 0;
		while (d >= 1024 && i < 4) {
			d /= 1024;
			i++;
		}
		return i ? d.toFixed(1) + ' ' + u[i] : String(v) + ' B';
	}
	function pct(part, whole) {
		if (!whole)
			return '0%';
		const p = 100 * part / whole;
		return p >= 1 ? p.toFixed(0) + '%' : p >= 0.1 ? p.toFixed(1) + '%' : '<0.1%';
	}
	function typeName(t) {
		return t >= 0 && t < TN.length ? TN[t] : '?';
	}
	/* FNV-1a of a type name: its colour in the icicle */
	function hue(s) {
		let h = 2166136261;
		for (let i = 0; i < s.length; i++) {
			h ^= s.charCodeAt(i);
			h = Math.imul(h, 16777619);
		}
		return (h >>> 0) % 360;
	}
	function table(cls, heads, numeric) {
		const t = el('table', cls);
		const tr = put(put(t, el('thead')), el('tr'));
		heads.forEach(function (h, i) { add(tr, el('th', numeric && numeric[i] ? 'n' : '', h)); });
		t.appendChild(el('tbody'));
		return t;
	}
	function row(t, cells, numeric) {
		const tr = t.tBodies[0].appendChild(el('tr'));
		cells.forEach(function (c, i) {
			const td = put(tr, el('td', numeric && numeric[i] ? 'n' : ''));
			add(td, c);
		});
		return tr;
	}
	function kv(rows) {
		const t = el('table', 'kv');
		rows.forEach(function (r) {
			if (!r)
				return;
			const tr = t.appendChild(el('tr'));
			add(tr, el('th', '', r[0]));
			add(add(tr, el('td')), r[1]);
		});
		return t;
	}
	function note(text) {
		return el('p', 'note', text);
	}
	function coreCmd(cmd, addr) {
		return 'pyheap ' + cmd + ' ' + ((D.info && D.info.core) || 'CORE') + (addr ? ' ' + addr : '');
	}

	/* ---- objects ---- */

	function obj(ref) {
		if (typeof ref === 'number' && ref >= 0 && ref < OBJ.length)
			return OBJ[ref];
		return null;
	}
	function objTypeName(o) {
		return o[0] ? typeName(o[1]) : '';
	}
	/* a link to an object's panel: "type 0x7f... value" */
	function objLink(ref, opts) {
		const o = obj(ref);
		opts = opts || {};
		if (!o) {
			const s = el('span', 'obj');
			add(s, el('span', 'a', typeof ref === 'string' ? ref : '?'));
			s.title = 'not in this report: ' + coreCmd('show', typeof ref === 'string' ? ref : 'ADDR');
			return s;
		}
		if (!o[0]) {                            /* a virtual node */
			const s = el('span', 'obj');
			add(s, el('span', 't', o[4]));
			return s;
		}
		const a = el('a', 'obj');
		a.href = '#obj-' + o[0];
		add(a, el('span', 't', typeName(o[1])), el('span', 'a', o[0]));
		if (o[4] && !opts.novalue)
			add(a, el('span', 'v', o[4]));
		return a;
	}
	/* "held by module root __main__:" and the references, each to its object */
	function chainEl(c, opts) {
		const d = el('div', 'chain');
		if (!c) {
			add(d, el('span', 'root', 'no root reaches it (garbage, or held from a C stack only)'));
			return d;
		}
		add(d, el('span', 'root', c.kind ? 'held by ' + c.kind + ' root ' + c.name + ':' : 'held by no root:'));
		const labels = c.labels || [];
		if (opts && opts.compact) {
			add(d, ' ', el('span', 'lbl', labels.length ? labels.join(' ') : '(itself)'));
			return d;
		}
		const ol = put(d, el('ol'));
		const nodes = c.nodes || [];
		nodes.forEach(function (n, i) {
			const li = put(ol, el('li'));
			if (i > 0)
				add(li, el('span', 'lbl', '\u2192 ' + labels[i - 1]));
			add(li, objLink(n));
		});
		return d;
	}

	/* ---- the object panel ---- */

	function flagsText(f) {
		const w = [];
		if (f & 1) w.push('a pymalloc block');
		if (f & 2) w.push('the GC lists');
		if (f & 4) w.push('a reference only');
		return w.join(', ') || '?';
	}
	function linksTable(links, count, dir) {
		const t = table('wide', dir === 'out' ? ['reference', 'to'] : ['from', 'reference'], null);
		(links || []).forEach(function (l) {
			const kind = l[2] & 2 ? ' (guessed)' : l[2] & 1 ? ' (weak)' : '';
			const lbl = el('span', 'lbl mono', l[0] + kind);
			if (dir === 'out')
				row(t, [lbl, objLink(l[1])]);
			else
				row(t, [objLink(l[1]), lbl]);
		});
		const shown = (links || []).length;
		const wrap = el('div');
		add(wrap, el('h3', '', (dir === 'out' ? 'Referents' : 'Referrers') + ' (' + num(count) + ')'));
		if (shown)
			add(wrap, t);
		if (count > shown)
			add(wrap, el('p', 'muted', 'the first ' + shown + ' of ' + num(count) + '; `' +
				coreCmd('show', 'ADDRESS') + '` lists 200'));
		return wrap;
	}
	function showPanel(addr) {
		const p = document.getElementById('panel');
		const body = p.querySelector('.body');
		const h = p.querySelector('h2');
		body.textContent = '';
		const i = byAddr.has(addr) ? byAddr.get(addr) : -1;
		const o = i >= 0 ? OBJ[i] : null;
		h.textContent = o ? typeName(o[1]) + ' ' + addr : addr;
		if (!o) {
			add(body, note('This address is not among the objects this report describes. ' +
				'`' + coreCmd('show', addr) + '` and `pyheap path --addr ' + addr + ' ' +
				((D.info && D.info.core) || 'CORE') + '` tell more.'));
		} else {
			const pn = i < PANELS.length ? PANELS[i] : null;
			const rows = [['value', el('span', 'mono', o[4] || '')],
				['size', bytes(o[2]) + ' (' + num(o[2]) + ' bytes, sys.getsizeof)'],
				['retained', bytes(o[3]) + ' (' + num(o[3]) + ' bytes: itself and what only it keeps alive)']];
			if (pn && pn.refcount !== undefined) {
				rows.push(['refcount', pn.immortal ? 'immortal' : num(pn.refcount) + ' (' + num(pn.found) +
					' found in the heap, ' + num(pn.external) + ' from outside)']);
				rows.push(['found in', flagsText(pn.flags)]);
				if (pn.root)
					rows.push(['root', pn.root]);
			}
			add(body, kv(rows));
			if (pn && pn.refcount !== undefined) {
				add(body, el('h3', '', 'Path from a root'), chainEl(pn.chain));
				add(body, linksTable(pn.referents, pn.referent_count, 'out'));
				add(body, linksTable(pn.referrers, pn.referrer_count, 'in'));
			} else {
				add(body, note('The report keeps the references of its first ' + num(D.panels_cap || 0) +
					' objects only. `' + coreCmd('show', addr) + '` lists this one\'s.'));
			}
		}
		p.hidden = false;
		p.scrollTop = 0;
	}

	/* ---- overview ---- */

	function renderOverview(b) {
		const I = D.info || {};
		const g = I.gc || {};
		const cards = put(b, el('div', 'cards'));
		function card(k, v) {
			add(cards, add(el('div', 'card'), el('div', 'v', v), el('div', 'k', k)));
		}
		card('objects', num(I.objects));
		card('bytes in objects (sys.getsizeof)', bytes(I.size));
		card('GC-tracked objects', num(I.gc_objects));
		card('pymalloc arenas', num(I.arenas));
		card('threads', num((I.threads || []).length) + ' (' + num((I.python_threads || []).length) + ' Python)');
		card('warnings', num(D.warning_count || 0));
		const grid = put(b, el('div', 'grid2'));
		const proc = put(grid, el('div'));
		add(proc, el('h3', '', 'Process'), kv([
			['executable', el('span', 'mono', I.executable || '(unknown)')],
			['command line', el('span', 'mono', (I.cmdline || '').replace(/[\x00-\x1f\x7f]/g, ' '))],
			['pid', I.pid],
			['signal', I.signal ? String(I.signal) : '0 (none: taken from a live process)'],
			['core', el('span', 'mono', I.core)],
			['OS threads', (I.threads || []).map(function (t) { return t.tid; }).join(' ')],
		]));
		const py = put(grid, el('div'));
		const dbg = I.debug_info || {};
		add(py, el('h3', '', 'Python'), kv([
			['version', I.python_version + ' (from ' + I.version_found_by + ')'],
			['layout', (I.layout || {}).name + ': ' + (I.layout || {}).why],
			['offsets', I.offsets_source],
			['debug info', (dbg.found_by || 'none') + (dbg.file ? ': ' + dbg.file : '')],
			['_PyRuntime', el('span', 'mono', I.runtime_address + ' in ' + I.runtime_module +
				' (' + I.runtime_found_by + ')')],
			['arenas from', I.arenas_found_by],
		]));
		const gc = put(grid, el('div'));
		add(gc, el('h3', '', 'Garbage collector'));
		if (g.known) {
			add(gc, kv([['state', add(el('span', g.enabled ? 'good' : 'bad',
				g.enabled ? 'enabled' : 'DISABLED'), g.collecting ? ' (collecting)' : '')],
				['permanent objects', num(g.permanent_objects)]]));
			const t = put(gc, table('', ['generation', 'threshold', 'count', 'objects'], [0, 1, 1, 1]));
			(g.generations || []).forEach(function (x, i) {
				row(t, [String(i), num(x.threshold), num(x.count), num(x.objects)], [0, 1, 1, 1]);
			});
		} else {
			add(gc, note('The collector\'s state could not be read.'));
		}
		const th = put(grid, el('div'));
		add(th, el('h3', '', 'Python threads'));
		const tt = put(th, table('', ['thread id', 'native id', 'thread state', 'interpreter'], null));
		(I.python_threads || []).forEach(function (t) {
			row(tt, [el('span', 'mono', t.thread_id), String(t.native_id), el('span', 'mono', t.tstate),
				String(t.interpreter)]);
		});
		add(b, el('h3', '', 'Warnings (' + num(D.warning_count || 0) + ')'));
		if ((D.warnings || []).length) {
			const ul = put(b, el('ul', 'warn'));
			D.warnings.forEach(function (w) { add(ul, el('li', '', w)); });
		} else {
			add(b, el('p', 'muted', 'none: every structure read as expected'));
		}
		const S = (D.suspects || {}).list || [];
		add(b, el('h3', '', 'First leak suspects'));
		if (!S.length)
			add(b, el('p', 'muted', 'no suspects'));
		S.slice(0, 3).forEach(function (s, i) {
			add(b, add(el('p'), el('span', 'rank', (i + 1) + '. '), el('span', 'share', pct(s.bytes, D.suspects.heap_size)),
				el('span', 'kind', s.kind), s.summary, ' ', linkTo('suspects', 'more')));
		});
	}
	function linkTo(section, text) {
		const a = el('a', '', text);
		a.href = '#' + section;
		return a;
	}

	/* ---- memory ---- */

	/* The ledger of `pyheap memory` (every byte of the core by owner), when
	 * a build with it embeds one: {total, unexplained, lines: [[name,
	 * bytes, depth], ...]}. */
	function renderLedger(b, L) {
		add(b, el('h3', '', 'Where the process\'s memory is (' + bytes(L.total) + ')'));
		const t = put(b, table('', ['', 'bytes', 'share'], [0, 1, 1]));
		(L.lines || []).forEach(function (l) {
			const name = el('span', '', l[0]);
			name.style.paddingLeft = (16 * (l[2] || 0)) + 'px';
			row(t, [name, bytes(l[1]), pct(l[1], L.total)], [0, 1, 1]);
		});
		if (L.unexplained !== undefined)
			row(t, ['unexplained', bytes(L.unexplained), pct(L.unexplained, L.total)], [0, 1, 1]);
	}
	function renderMemory(b) {
		const M = D.memory || {};
		if (M.ledger)
			renderLedger(b, M.ledger);
		else
			add(b, note('The memory ledger (`pyheap memory`: every byte of the core by mapping, malloc, ' +
				'pymalloc and owner) is not part of this build; this section shows the objects\' ' +
				'bytes by type and pymalloc\'s figures.'));
		const T = D.types || {rows: []};
		add(b, el('h3', '', 'Objects by type: ' + bytes(T.total_size) + ' in ' + num(T.total_count) + ' objects'));
		const t = put(b, table('wide', ['type', 'bytes', 'share', ''], [0, 1, 1, 0]));
		const rows = T.rows.slice().sort(function (x, y) { return y[2] - x[2]; });
		const maxb = rows.length ? rows[0][2] : 1;
		let rest = T.total_size;
		rows.slice(0, 15).forEach(function (r) {
			rest -= r[2];
			const bar = el('span', 'bar');
			bar.style.width = Math.max(1, Math.round(300 * r[2] / maxb)) + 'px';
			row(t, [typeName(r[0]), bytes(r[2]), pct(r[2], T.total_size), bar], [0, 1, 1, 0]);
		});
		if (rows.length > 15)
			row(t, [el('span', 'muted', num(rows.length - 15) + ' other types'), bytes(rest),
				pct(rest, T.total_size), ''], [0, 1, 1, 0]);
		const A = D.arenas;
		if (!A)
			return;
		let used = 0, free = 0, waste = 0;
		(A.classes || []).forEach(function (c) {
			used += c[0] * c[2];
			free += c[0] * c[3];
			waste += c[4];
		});
		add(b, el('h3', '', 'pymalloc'));
		add(b, kv([
			['arenas', num(A.arenas) + ' \u00d7 ' + bytes(A.arena_size) + ' = ' + bytes(A.arenas * A.arena_size) + ' reserved'],
			['blocks in use', bytes(used) + ' in ' + num(A.blocks) + ' blocks'],
			['free blocks', bytes(free) + ' in pools in use'],
			['wasted', bytes(waste) + ' (free blocks, pool headers and tails)'],
			['empty pools', num(A.pools_empty) + ' (' + bytes(A.pools_empty * A.pool_size) + ')'],
			['nearly empty arenas', add(el('span', '', num(A.nearly_empty_arenas) + ' keeping ' +
				bytes(A.nearly_empty_bytes) + ' resident ('), linkTo('arenas', 'the arena map'), ')')],
		]));
	}

	/* ---- types ---- */

	function renderTypes(b) {
		const T = D.types || {rows: []};
		const ret = new Map();                  /* retained by type name, as `top` */
		(D.retained_types || []).forEach(function (r) {
			const n = typeName(r[0]);
			const x = ret.get(n) || [0, 0];
			ret.set(n, [x[0] + r[1], x[1] + r[2]]);
		});
		const rows = T.rows.map(function (r) {
			const n = typeName(r[0]);
			const x = ret.get(n) || [0, 0];
			return [n, r[1], r[2], x[1], x[0]];
		});
		add(b, el('p', 'muted', num(rows.length) + ' types, ' + num(T.total_count) + ' objects, ' +
			bytes(T.total_size) + '. Retained: what the type\'s objects keep alive by themselves ' +
			'(the dominator tree, as `pyheap top` sums it: objects inside another of their type are not counted twice).'));
		const f = put(b, el('input', 'filter'));
		f.type = 'search';
		f.placeholder = 'filter types (substring)';
		const info = put(b, el('span', 'muted'));
		info.style.marginLeft = '10px';
		const heads = ['type', 'count', 'bytes', 'retained', 'retaining objects'];
		const numeric = [0, 1, 1, 1, 1];
		const t = put(b, table('wide', heads, numeric));
		let key = 2, desc = true;
		const ths = t.tHead.rows[0].cells;
		for (let i = 0; i < ths.length; i++) {
			ths[i].classList.add('sort');
			ths[i].addEventListener('click', function () {
				if (key === i)
					desc = !desc;
				else {
					key = i;
					desc = i !== 0;
				}
				draw();
			});
		}
		const LIMIT = 500;
		function draw() {
			const q = f.value.trim().toLowerCase();
			const sel = q ? rows.filter(function (r) { return r[0].toLowerCase().indexOf(q) >= 0; }) : rows.slice();
			sel.sort(function (x, y) {
				const a = x[key], c = y[key];
				const o = key === 0 ? (a < c ? -1 : a > c ? 1 : 0) : a - c;
				return desc ? -o : o;
			});
			for (let i = 0; i < ths.length; i++)
				ths[i].classList.remove('asc', 'desc');
			ths[key].classList.add(desc ? 'desc' : 'asc');
			const body = el('tbody');
			let cnt = 0, sz = 0;
			sel.forEach(function (r) { cnt += r[1]; sz += r[2]; });
			sel.slice(0, LIMIT).forEach(function (r) {
				const tr = body.appendChild(el('tr'));
				add(tr, el('td', 'mono', r[0]), el('td', 'n', num(r[1])), el('td', 'n', bytes(r[2])),
					el('td', 'n', r[3] ? bytes(r[3]) : ''), el('td', 'n', r[4] ? num(r[4]) : ''));
				tr.cells[2].title = num(r[2]) + ' bytes';
				tr.cells[3].title = num(r[3]) + ' bytes';
			});
			t.replaceChild(body, t.tBodies[0]);
			info.textContent = (q ? num(sel.length) + ' types match: ' + num(cnt) + ' objects, ' + bytes(sz) : '') +
				(sel.length > LIMIT ? (q ? '; ' : '') + 'the first ' + LIMIT + ' shown' : '');
		}
		f.addEventListener('input', draw);
		draw();
	}

	/* ---- the dominator tree ---- */

	function renderTree(b) {
		const TR = D.tree;
		if (!TR || !TR.nodes || !TR.nodes.length) {
			add(b, note('No dominator tree in this report.'));
			return;
		}
		const N = TR.nodes;
		const kids = N.map(function () { return []; });
		N.forEach(function (n, i) { if (n[0] >= 0) kids[n[0]].push(i); });
		add(b, el('p', 'muted', 'Each box is an object and what it keeps alive (its retained size): its children ' +
			'are the objects only it keeps. ' + bytes(TR.reachable) + ' of ' + bytes(TR.total) + ' is reached from the roots' +
			(TR.total > TR.reachable ? '; ' + bytes(TR.total - TR.reachable) + ' is not (garbage, or held from C stacks only)' : '') +
			'. The ' + num(N.length - 1) + ' biggest nodes are drawn; smaller children are summed as "others". ' +
			'Click a box to zoom into it, a step of the path above to zoom out.'));
		const crumbs = put(b, el('div', 'crumbs'));
		const box = put(b, el('div'));
		box.id = 'icicle';
		const infoBox = put(b, el('div'));
		infoBox.id = 'treeinfo';
		const DEPTH = 12, H = 22;
		let focus = 0;
		function label(i) {
			if (i === 0)
				return 'all roots';
			const o = obj(N[i][1]);
			if (!o)
				return String(N[i][1]);
			return o[0] ? typeName(o[1]) + (o[4] ? ' ' + o[4] : '') : o[4];
		}
		function typeOf(i) {
			const o = obj(N[i][1]);
			return o ? (o[0] ? typeName(o[1]) : o[4].split(' ')[0]) : '?';
		}
		function path(i) {
			const p = [];
			for (; i >= 0; i = N[i][0])
				p.unshift(i);
			return p;
		}
		function select(i) {
			infoBox.textContent = '';
			const n = N[i];
			const o = obj(n[1]);
			add(infoBox, el('h3', '', i === 0 ? 'All roots' : label(i)));
			const rows = [['retained', bytes(n[2]) + ' (' + pct(n[2], TR.total) + ' of the heap)']];
			if (o)
				rows.push(['object', objLink(n[1])], ['own size', bytes(o[2])]);
			rows.push(['children drawn', num(kids[i].length)]);
			if (n[3])
				rows.push(['others', num(n[3]) + ' smaller children, ' + bytes(n[4])]);
			add(infoBox, kv(rows));
			if (i > 0 && o && o[0]) {
				const pi = N[i][1];
				const pn = typeof pi === 'number' && pi < PANELS.length ? PANELS[pi] : null;
				add(infoBox, el('h3', '', 'Path from a root'));
				if (pn && pn.refcount !== undefined)
					add(infoBox, chainEl(pn.chain));
				else
					add(infoBox, el('p', 'muted', '`pyheap path --addr ' + o[0] + '` gives it.'));
			}
		}
		function draw() {
			box.textContent = '';
			crumbs.textContent = '';
			path(focus).forEach(function (i, k) {
				if (k)
					add(crumbs, el('span', 'sep', '\u203a'));
				const a = put(crumbs, el('a', '', i === 0 ? 'all roots' : label(i).slice(0, 60)));
				a.addEventListener('click', function () { focus = i; draw(); select(i); });
			});
			const total = N[focus][2] || 1;
			let depthSeen = 0;
			function place(i, x, w, d) {
				if (d >= DEPTH || w < 0.05)
					return;
				depthSeen = Math.max(depthSeen, d + 1);
				const n = N[i];
				const div = put(box, el('div', 'node'));
				div.style.left = x + '%';
				div.style.width = w + '%';
				div.style.top = (d * H) + 'px';
				const t = typeOf(i);
				div.style.background = i === 0 ? '#c9d3e6' : 'hsl(' + hue(t) + ', 55%, 72%)';
				if (w > 4)
					div.textContent = label(i) + ' \u2014 ' + bytes(n[2]);
				div.title = label(i) + '\n' + bytes(n[2]) + ' retained (' + pct(n[2], TR.total) + ' of the heap)';
				if (i === focus)
					div.classList.add('sel');
				div.addEventListener('click', function (e) {
					e.stopPropagation();
					if (kids[i].length || n[3]) {
						focus = i;
						draw();
					}
					select(i);
				});
				let cx = x;
				kids[i].forEach(function (k) {
					const kw = w * N[k][2] / (n[2] || 1);
					place(k, cx, kw, d + 1);
					cx += kw;
				});
				if (n[3] && d + 1 < DEPTH) {
					const ow = w * n[4] / (n[2] || 1);
					if (ow >= 0.05) {
						const od = put(box, el('div', 'node others'));
						od.style.left = cx + '%';
						od.style.width = ow + '%';
						od.style.top = ((d + 1) * H) + 'px';
						if (ow > 4)
							od.textContent = num(n[3]) + ' others \u2014 ' + bytes(n[4]);
						od.title = num(n[3]) + ' smaller children: ' + bytes(n[4]);
						depthSeen = Math.max(depthSeen, d + 2);
					}
				}
			}
			place(focus, 0, 100, 0);
			box.style.height = (depthSeen * H + 2) + 'px';
			void total;
		}
		draw();
		select(0);
		/* the biggest retainers, as `pyheap top` lists them */
		const TOP = D.top || {objects: []};
		add(b, el('h3', '', 'Biggest retainers (`pyheap top`)'));
		const t = put(b, table('wide', ['retained', 'share', 'object', 'held by'], [1, 1, 0, 0]));
		TOP.objects.forEach(function (r) {
			const pn = typeof r[0] === 'number' && r[0] < PANELS.length ? PANELS[r[0]] : null;
			row(t, [bytes(r[1]), pct(r[1], TOP.total_size), objLink(r[0]),
				pn && pn.refcount !== undefined ? chainEl(pn.chain, {compact: true}) : ''], [1, 1, 0, 0]);
		});
	}

	/* ---- suspects ---- */

	function renderSuspects(b) {
		const S = D.suspects;
		if (!S) {
			add(b, note('No suspects in this report.'));
			return;
		}
		add(b, el('p', 'muted', 'What most likely leaks, ranked by its share of the heap (' + bytes(S.heap_size) +
			(S.pinned_free ? ': the objects\' ' + bytes(S.total_size) + ' and the ' + bytes(S.pinned_free) +
				' of nearly empty arenas they do not use' : '') + '), as `pyheap suspects' +
			(D.baseline ? ' --baseline ' + D.baseline : '') + '` ranks it.'));
		if (!S.list.length)
			add(b, note('No suspects: nothing retains 5% of the heap, no unbounded cache, no garbage to speak of, no orphans.'));
		S.list.forEach(function (s, i) {
			const d = put(b, el('div', 'suspect'));
			add(d, add(el('div', 'head'), el('span', 'rank', (i + 1) + '.'), el('span', 'share', pct(s.bytes, S.heap_size)),
				el('span', 'kind', s.kind), s.summary));
			const rows = [['keeps', bytes(s.bytes)]];
			if (s.obj !== undefined) {
				rows.push(['object', objLink(s.obj)]);
				rows.push(['retained', bytes(s.retained)]);
				if (s.entries !== undefined)
					rows.push([s.kind === 'unbounded_cache' ? 'cache entries' : 'items', num(s.entries)]);
			}
			if (s.types)
				rows.push(['types', s.types.map(function (x) {
					return num(x[1]) + ' ' + typeName(x[0]) + ' (' + bytes(x[2]) + ')';
				}).join(', ')]);
			if (s.arenas) {
				const span = el('span', 'mono', s.arenas.slice(0, 8).join(' ') + (s.arenas.length > 8 ? ' \u2026' : ''));
				rows.push(['arenas', add(el('span'), span, ' (', linkTo('arenas', 'the arena map'), ')')]);
			}
			add(d, kv(rows));
			if (s.chain)
				add(d, chainEl(s.chain));
		});
		if (D.baseline) {
			add(b, el('h3', '', 'Growth since ' + D.baseline + ' (`pyheap diff`)'));
			const G = D.growth || [];
			if (!G.length) {
				add(b, el('p', 'muted', 'no type changed'));
				return;
			}
			const t = put(b, table('wide', ['type', 'count', '\u0394 count', 'bytes', '\u0394 bytes'], [0, 1, 1, 1, 1]));
			G.forEach(function (g) {
				const dc = g[2] - g[1], ds = g[4] - g[3];
				row(t, [el('span', 'mono', g[0]), num(g[1]) + ' \u2192 ' + num(g[2]), (dc > 0 ? '+' : '') + num(dc),
					bytes(g[3]) + ' \u2192 ' + bytes(g[4]), (ds >= 0 ? '+' : '\u2212') + bytes(Math.abs(ds))],
					[0, 1, 1, 1, 1]);
			});
		}
	}

	/* ---- threads ---- */

	function renderStacks(b) {
		const S = D.stacks || [];
		if (!S.length) {
			add(b, note('No Python thread found.'));
			return;
		}
		add(b, el('p', 'muted', num(S.length) + ' Python thread' + (S.length === 1 ? '' : 's') +
			', innermost frame first, with each frame\'s locals (`pyheap stacks --locals`).'));
		S.forEach(function (t) {
			const d = put(b, el('div', 'thread'));
			add(d, el('h3', '', 'Thread ' + t.thread_id + ' (native ' + t.native_id + ')' +
				(t.frames.length ? '' : ': no Python frames')));
			t.frames.forEach(function (f) {
				const fd = put(d, el('div', 'frame'));
				add(fd, el('span', 'fn', f.function), el('span', 'loc', f.file + ':' + f.line));
				if (!f.locals.length)
					return;
				const lt = put(fd, table('', ['local', 'value', 'size', 'retained'], [0, 0, 1, 1]));
				f.locals.forEach(function (l) {
					row(lt, [el('span', 'mono', l[0]), objLink(l[1]), bytes(l[2]), bytes(l[3])], [0, 0, 1, 1]);
				});
			});
		});
	}

	/* ---- arenas ---- */

	/* a used pool's colour: orange when nearly empty, blue when full */
	function poolColour(f) {
		const h = 28 + f * 192, l = 66 - f * 28;
		return 'hsl(' + h.toFixed(0) + ', 70%, ' + l.toFixed(0) + '%)';
	}
	function renderArenas(b) {
		const A = D.arenas;
		if (!A) {
			add(b, note('No pymalloc data in this report.'));
			return;
		}
		add(b, kv([
			['found by', A.found_by],
			['arena size', bytes(A.arena_size) + ', pools of ' + bytes(A.pool_size)],
			['arenas', num(A.arenas)],
			['pools', num(A.pools_used) + ' used (' + num(A.pools_full) + ' full), ' + num(A.pools_empty) + ' empty'],
			['blocks in use', num(A.blocks)],
			['nearly empty arenas', num(A.nearly_empty_arenas) + ' (at most 10% of their pools in use), keeping ' +
				bytes(A.nearly_empty_bytes) + ' resident'],
		]));
		const map = A.map || [];
		/* each pinned arena (its first pool in use .. its end) on the
		 * arena of the map that holds it */
		const pinned = new Map();
		(A.pinned || []).forEach(function (p) {
			const b = BigInt(p.base);
			const a = map.find(function (m) {
				return b >= BigInt(m[0]) && b < BigInt(m[0]) + BigInt(A.arena_size);
			});
			pinned.set(a ? a[0] : p.base, p);
		});
		add(b, el('h3', '', 'Arenas \u00d7 pools'));
		add(b, el('p', 'muted', 'One strip per arena (by address), one cell per pool: grey is an empty pool, ' +
			'the colour of a used one is how full it is. Arenas outlined red are nearly empty but pinned ' +
			'by a few live blocks. Hover for a pool, click a pinned arena for its objects.' +
			(A.drawn < A.arenas ? ' The first ' + num(A.drawn) + ' of ' + num(A.arenas) + ' arenas are drawn.' : '')));
		const lg = put(b, el('div', 'legend'));
		function sw(colour, text) {
			const s = el('span', 'sw');
			s.style.background = colour;
			add(lg, add(el('span'), s, text));
		}
		sw('#e3e5e9', 'empty pool');
		const grad = el('span', 'grad');
		grad.style.background = 'linear-gradient(90deg,' + poolColour(0) + ',' + poolColour(0.5) + ',' + poolColour(1) + ')';
		add(lg, add(el('span'), 'used pool: nearly empty', grad, 'full'));
		sw('#222', 'unreadable');
		const pinnedSw = el('span', 'sw');
		pinnedSw.style.border = '2px solid #c0262d';
		add(lg, add(el('span'), pinnedSw, 'nearly empty arena'));
		const cv = put(b, el('canvas'));
		cv.id = 'arenamap';
		const maxPools = map.reduce(function (m, a) { return Math.max(m, a[1].length); }, 1);
		const width = Math.max(300, Math.min(1360, (b.clientWidth || 1200) - 4));
		const GAPX = 10, PAD = 6;
		/* the biggest cells that keep the picture under about 900 px */
		let CW = 2, CH = 6, GAPY = 3, stripW = 0, cols = 1;
		[24, 16, 12, 8, 6, 4, 3, 2].some(function (cw) {
			CW = Math.max(2, Math.min(cw, Math.floor((width - 2 * PAD) / maxPools)));
			CH = Math.max(6, Math.min(16, Math.round(CW * 0.75)));
			GAPY = Math.max(3, Math.round(CH / 3));
			stripW = maxPools * CW;
			cols = Math.max(1, Math.floor((width - PAD * 2 + GAPX) / (stripW + GAPX)));
			return Math.ceil(map.length / cols) * (CH + GAPY) <= 900;
		});
		const rowsN = Math.ceil(map.length / cols);
		const W = PAD * 2 + cols * stripW + (cols - 1) * GAPX, Hh = PAD * 2 + rowsN * (CH + GAPY);
		const dpr = window.devicePixelRatio || 1;
		cv.width = Math.ceil(W * dpr);
		cv.height = Math.ceil(Hh * dpr);
		cv.style.width = W + 'px';
		cv.style.height = Hh + 'px';
		const ctx = cv.getContext('2d');
		const blocksOf = function (sz) { return Math.floor((A.pool_size - A.pool_overhead) / ((sz + 1) * 16)); };
		function at(i) {
			return [PAD + (i % cols) * (stripW + GAPX), PAD + Math.floor(i / cols) * (CH + GAPY)];
		}
		if (ctx) {
			ctx.scale(dpr, dpr);
			ctx.fillStyle = '#fff';
			ctx.fillRect(0, 0, W, Hh);
			map.forEach(function (a, i) {
				const xy = at(i);
				a[1].forEach(function (v, k) {
					if (v === -1)
						ctx.fillStyle = '#e3e5e9';
					else if (v < 0)
						ctx.fillStyle = '#222';
					else
						ctx.fillStyle = poolColour(Math.min(1, Math.floor(v / 32) / (blocksOf(v % 32) || 1)));
					ctx.fillRect(xy[0] + k * CW, xy[1], CW - (CW > 2 ? 1 : 0), CH);
				});
				if (pinned.has(a[0])) {
					ctx.strokeStyle = '#c0262d';
					ctx.lineWidth = 1.5;
					ctx.strokeRect(xy[0] - 1.5, xy[1] - 1.5, a[1].length * CW + 2, CH + 3);
				}
			});
		}
		const tip = document.getElementById('tip');
		function hit(e) {
			const r = cv.getBoundingClientRect();
			const x = e.clientX - r.left - PAD, y = e.clientY - r.top - PAD;
			const c = Math.floor(x / (stripW + GAPX)), rr = Math.floor(y / (CH + GAPY));
			const k = Math.floor((x - c * (stripW + GAPX)) / CW);
			const i = rr * cols + c;
			if (x < 0 || y < 0 || c >= cols || i >= map.length || k < 0 || k >= map[i][1].length)
				return null;
			return [i, k];
		}
		cv.addEventListener('mousemove', function (e) {
			const h = hit(e);
			if (!h) {
				tip.hidden = true;
				return;
			}
			const a = map[h[0]], v = a[1][h[1]];
			const ps = BigInt(A.pool_size);
			const first = (BigInt(a[0]) + ps - 1n) / ps * ps;
			const poolAddr = '0x' + (first + BigInt(h[1]) * ps).toString(16);
			let s = 'arena ' + a[0] + (pinned.has(a[0]) ? ' (nearly empty)' : '') + '\npool ' + h[1] + ' at ' + poolAddr + ': ';
			if (v === -1)
				s += 'empty';
			else if (v < 0)
				s += 'unreadable, or a header pymalloc would not write';
			else
				s += 'blocks of ' + ((v % 32 + 1) * 16) + ' bytes, ' + Math.floor(v / 32) + ' of ' + blocksOf(v % 32) + ' in use';
			tip.textContent = s;
			tip.hidden = false;
			tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 430) + 'px';
			tip.style.top = (e.clientY + 14) + 'px';
		});
		cv.addEventListener('mouseleave', function () { tip.hidden = true; });
		const pinBox = el('div');
		cv.addEventListener('click', function (e) {
			const h = hit(e);
			if (!h)
				return;
			const p = pinned.get(map[h[0]][0]);
			if (p) {
				showPinned(p);
				pinBox.scrollIntoView({block: 'nearest'});
			}
		});
		add(b, el('h3', '', 'Size classes'));
		const t = put(b, table('', ['block size', 'pools', 'blocks in use', 'free blocks', 'wasted'], [1, 1, 1, 1, 1]));
		(A.classes || []).forEach(function (c) {
			if (c[1])
				row(t, [c[0] + ' B', num(c[1]), num(c[2]), num(c[3]), bytes(c[4])], [1, 1, 1, 1, 1]);
		});
		add(b, el('h3', '', 'Nearly empty arenas and what pins them (' + num((A.pinned || []).length) + ')'));
		add(b, pinBox);
		const list = put(b, table('', ['arena', 'objects', 'by type'], [0, 1, 0]));
		(A.pinned || []).forEach(function (p) {
			const a = el('a', 'mono', p.base);
			a.href = '#arenas';
			a.addEventListener('click', function (e) { e.preventDefault(); showPinned(p); });
			const types = new Map();
			p.objects.forEach(function (r) {
				const o = obj(r);
				const n = o ? objTypeName(o) : '?';
				types.set(n, (types.get(n) || 0) + 1);
			});
			const ts = Array.from(types.entries()).sort(function (x, y) { return y[1] - x[1]; })
				.slice(0, 4).map(function (x) { return num(x[1]) + ' ' + x[0]; }).join(', ');
			row(list, [a, num(p.count), ts + (p.count > p.objects.length ? ' (of the first ' + p.objects.length + ')' : '')], [0, 1, 0]);
		});
		function showPinned(p) {
			pinBox.textContent = '';
			add(pinBox, el('h3', '', 'Arena ' + p.base + ': ' + num(p.count) + ' objects'));
			const ul = put(pinBox, el('ul'));
			p.objects.forEach(function (r) { add(ul, add(el('li'), objLink(r))); });
			if (p.count > p.objects.length)
				add(pinBox, el('p', 'muted', '`pyheap arenas --list` lists all ' + num(p.count) + '.'));
		}
	}

	/* ---- the page ---- */

	const renderers = {overview: renderOverview, memory: renderMemory, types: renderTypes,
		dominators: renderTree, suspects: renderSuspects, stacks: renderStacks, arenas: renderArenas};
	let current = 'overview';

	function show(name) {
		current = name;
		SECTIONS.forEach(function (s) {
			document.getElementById('sec-' + s).classList.toggle('active', s === name);
		});
		const links = document.querySelectorAll('#nav a');
		for (let i = 0; i < links.length; i++)
			links[i].classList.toggle('active', links[i].getAttribute('href') === '#' + name);
	}
	function route() {
		const h = decodeURIComponent(location.hash.slice(1));
		const m = /^obj-(0x[0-9a-fA-F]+)$/.exec(h);
		if (m) {
			if (!document.querySelector('section.active'))
				show(current);
			showPanel(m[1].toLowerCase().replace(/^0x0*(?=[0-9a-f])/, '0x'));
			return;
		}
		document.getElementById('panel').hidden = true;
		show(SECTIONS.indexOf(h) >= 0 ? h : current);
	}

	const I = D.info || {};
	document.getElementById('subtitle').textContent = (I.executable || I.core || '') + ' \u00b7 pid ' + I.pid +
		' \u00b7 Python ' + I.python_version + ' \u00b7 ' + bytes(I.size || 0) + ' in ' + num(I.objects || 0) + ' objects';
	SECTIONS.forEach(function (s) {
		const body = document.querySelector('#sec-' + s + ' .body');
		try {
			renderers[s](body);
		} catch (e) {
			add(body, el('p', 'error', 'This section could not be drawn: ' + e));
			setTimeout(function () { throw e; });   /* and the console says where */
		}
	});
	document.querySelector('#panel .close').addEventListener('click', function (e) {
		e.preventDefault();
		location.hash = current;
	});
	document.addEventListener('keydown', function (e) {
		if (e.key === 'Escape' && !document.getElementById('panel').hidden)
			location.hash = current;
	});
	window.addEventListener('hashchange', route);
	route();
	window.pyheapReady = performance.now();
	document.documentElement.setAttribute('data-ready', '1');
})();
