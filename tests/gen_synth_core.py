#!/usr/bin/env python3
"""gen_synth_core.py - write tiny synthetic ELF64 x86-64 cores for check_core.

    python3 tests/gen_synth_core.py fixtures/synth

Writes two small module files (a PIE "synthapp" and a shared object
"libsynth.so", each with a build-id note, .rodata, .data, .bss and a .symtab)
and a set of cores naming them through NT_FILE as /synth/synthapp and
/synth/libsynth.so (tests find them with --lib-path), plus broken variants.
Everything is deterministic, so regenerating gives identical bytes.
Standard library only.
"""
import os
import struct
import sys

PAGE = 0x1000
APP_BASE = 0x555555554000
LIB_BASE = 0x7F0000000000
MISSING_BASE = 0x7F0000100000
DEVZERO_BASE = 0x7F0000200000
DATA_BASE = 0x7F0000300000
HEAP = 0x10000000
STACK = 0x7FFD00000000
EXECFN_OFS = 0x10

PID = 4242
TIDS = (4242, 4243)
SIGNO = 11

PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
ET_EXEC, ET_DYN, ET_CORE = 2, 3, 4
EM_X86_64 = 62
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV = 1, 3, 6
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_EXECFN = 0, 3, 4, 5, 6, 9, 31


def ehdr(etype, phoff, phnum, shoff=0, shnum=0, shstrndx=0, cls=2, data=1,
         machine=EM_X86_64, entry=0):
    ident = b"\x7fELF" + bytes([cls, data, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, phoff,
                               shoff, 0, 64, 56, phnum, 64, shnum, shstrndx)


def phdr(ptype, flags, offset, vaddr, filesz, memsz, align=PAGE):
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, vaddr,
                       filesz, memsz, align)


def shdr(name, stype, flags, addr, offset, size, link=0, info=0, align=1, entsize=0):
    return struct.pack("<IIQQQQIIQQ", name, stype, flags, addr, offset, size,
                       link, info, align, entsize)


def note(name, ntype, desc):
    n = name + b"\0"
    pad = lambda b: b + bytes((-len(b)) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def rodata_pattern(salt):
    return bytes(((i * 7 + 3 + salt) & 0xFF) for i in range(0x200))


def data_pattern(salt):
    return bytes(((i ^ 0xA5) + salt) & 0xFF for i in range(0x100))


def build_id(salt):
    return bytes(((i * 13 + salt) & 0xFF) for i in range(20))


# ---- the module files ----
#
#   file 0x000  Ehdr, 3 Phdrs, build-id note      PT_LOAD r--  vaddr 0x0000
#        0x200  .rodata (0x200)                    (filesz = memsz = 0x400)
#        0x600  .data (0x100), then .bss (0x200)   PT_LOAD rw-  vaddr 0x1600
#        0x700  .symtab, .strtab, .shstrtab, section headers (not loaded)

def module(prefix, salt):
    out = bytearray(0x700)
    bid = note(b"GNU", 3, build_id(salt))
    phs = (phdr(PT_LOAD, PF_R, 0, 0, 0x400, 0x400) +
           phdr(PT_LOAD, PF_R | PF_W, 0x600, 0x1600, 0x100, 0x300) +
           phdr(PT_NOTE, PF_R, 0xE8, 0xE8, len(bid), len(bid), 4))
    out[0x40:0x40 + len(phs)] = phs
    out[0xE8:0xE8 + len(bid)] = bid
    out[0x200:0x400] = rodata_pattern(salt)
    out[0x600:0x700] = data_pattern(salt)

    strtab = b"\0"
    def s(name):
        nonlocal strtab
        off = len(strtab)
        strtab += name + b"\0"
        return off
    # Sections: 1 note, 2 .rodata, 3 .data, 4 .bss, 5 .symtab, 6 .strtab, 7 .shstrtab
    syms = struct.pack("<IBBHQQ", 0, 0, 0, 0, 0, 0)
    # Locals first (sh_info = index of the first global).
    syms += struct.pack("<IBBHQQ", s(prefix + b"_local"), 0x01, 0, 3, 0x1610, 8)
    syms += struct.pack("<IBBHQQ", s(prefix + b"_rodata"), 0x11, 0, 2, 0x200, 0x200)
    syms += struct.pack("<IBBHQQ", s(prefix + b"_data"), 0x11, 0, 3, 0x1600, 0x100)
    syms += struct.pack("<IBBHQQ", s(prefix + b"_bss"), 0x11, 0, 4, 0x1700, 0x200)
    syms += struct.pack("<IBBHQQ", s(prefix + b"_func"), 0x12, 0, 2, 0x300, 0x10)
    syms += struct.pack("<IBBHQQ", s(b"undefined_sym"), 0x10, 0, 0, 0, 0)

    shstr = b"\0"
    def sh(name):
        nonlocal shstr
        off = len(shstr)
        shstr += name + b"\0"
        return off
    names = [sh(n) for n in (b".note.gnu.build-id", b".rodata", b".data", b".bss",
                             b".symtab", b".strtab", b".shstrtab")]
    symoff = len(out)
    out += syms
    stroff = len(out)
    out += strtab
    shstroff = len(out)
    out += shstr
    out += bytes((-len(out)) % 8)
    shoff = len(out)
    out += shdr(0, 0, 0, 0, 0, 0)
    out += shdr(names[0], 7, 2, 0xE8, 0xE8, len(bid), align=4)
    out += shdr(names[1], 1, 2, 0x200, 0x200, 0x200, align=16)
    out += shdr(names[2], 1, 3, 0x1600, 0x600, 0x100, align=16)
    out += shdr(names[3], 8, 3, 0x1700, 0x700, 0x200, align=16)
    out += shdr(names[4], 2, 0, 0, symoff, len(syms), link=6, info=2, align=8, entsize=24)
    out += shdr(names[5], 3, 0, 0, stroff, len(strtab))
    out += shdr(names[6], 3, 0, 0, shstroff, len(shstr))
    out[0:64] = ehdr(ET_DYN, 64, 3, shoff, 8, 7, entry=0x300)
    return bytes(out)


# ---- cores ----

def prstatus(tid, cursig):
    b = bytearray(336)
    struct.pack_into("<h", b, 12, cursig)
    struct.pack_into("<iiii", b, 32, tid, 1, tid, tid)
    return bytes(b)


def prpsinfo(pid, fname, psargs):
    b = bytearray(136)
    struct.pack_into("<i", b, 24, pid)
    b[40:40 + len(fname)] = fname
    b[56:56 + len(psargs)] = psargs
    return bytes(b)


def siginfo(signo):
    b = bytearray(128)
    struct.pack_into("<i", b, 0, signo)
    return bytes(b)


def auxv(pairs):
    return b"".join(struct.pack("<QQ", t, v) for t, v in pairs + [(AT_NULL, 0)])


def nt_file(entries):
    d = struct.pack("<QQ", len(entries), PAGE)
    for start, end, pgofs, _ in entries:
        d += struct.pack("<QQQ", start, end, pgofs)
    for *_, name in entries:
        d += name + b"\0"
    return d


def core(notes, segs, etype=ET_CORE):
    """segs: list of (vaddr, memsz, flags, data bytes)."""
    nph = 1 + len(segs)
    off = 64 + 56 * nph
    nbytes = b"".join(notes)
    phs = phdr(PT_NOTE, 0, off, 0, len(nbytes), 0, 1)
    body = nbytes
    off += len(nbytes)
    for vaddr, memsz, flags, data in segs:
        phs += phdr(PT_LOAD, flags, off, vaddr, len(data), memsz)
        body += data
        off += len(data)
    return ehdr(etype, 64, nph) + phs + body


def stack_bytes():
    b = bytearray(bytes((i * 5) & 0xFF for i in range(0x100)))
    name = b"/synth/synthapp\0"
    b[EXECFN_OFS:EXECFN_OFS + len(name)] = name
    return bytes(b)


def synth_core(app, lib, lib_core_bid=None, with_phdr=True, with_file=True):
    aux = [(AT_PHENT, 56), (AT_PHNUM, 3), (AT_PAGESZ, PAGE)]
    if with_phdr:
        aux = [(AT_PHDR, APP_BASE + 0x40)] + aux + [(AT_ENTRY, APP_BASE + 0x300)]
    aux.append((AT_EXECFN, STACK + EXECFN_OFS))
    files = [
        (APP_BASE, APP_BASE + PAGE, 0, b"/synth/synthapp"),
        (APP_BASE + PAGE, APP_BASE + 2 * PAGE, 0, b"/synth/synthapp"),
        (LIB_BASE, LIB_BASE + PAGE, 0, b"/synth/libsynth.so"),
        (LIB_BASE + PAGE, LIB_BASE + 2 * PAGE, 0, b"/synth/libsynth.so"),
        (MISSING_BASE, MISSING_BASE + PAGE, 0, b"/synth/libmissing.so"),
        (DEVZERO_BASE, DEVZERO_BASE + PAGE, 0, b"/dev/zero (deleted)"),
        (DATA_BASE, DATA_BASE + PAGE, 0, b"/synth/data.bin"),
    ]
    notes = [
        note(b"CORE", NT_PRSTATUS, prstatus(TIDS[0], SIGNO)),
        note(b"CORE", NT_PRPSINFO, prpsinfo(PID, b"synthapp", b"synthapp --flag x")),
        note(b"CORE", NT_SIGINFO, siginfo(SIGNO)),
        note(b"CORE", NT_AUXV, auxv(aux)),
    ]
    if with_file:
        notes.append(note(b"CORE", NT_FILE, nt_file(files)))
    notes.append(note(b"CORE", NT_PRSTATUS, prstatus(TIDS[1], 0)))
    lib_page0 = bytearray(lib[:0x200])
    if lib_core_bid is not None:
        lib_page0[0xE8 + 16:0xE8 + 36] = lib_core_bid
    lib_data = bytearray(0x700)
    lib_data[0x600:0x700] = bytes([0x11]) * 0x100   # the process changed .data
    segs = [
        (HEAP, 0x100, PF_R | PF_W, bytes((i * 3) & 0xFF for i in range(0x100))),
        (HEAP + 0x100, 0x100, PF_R | PF_W, bytes(0xFF - i for i in range(0x100))),
        (HEAP + 0x1000, PAGE, PF_R | PF_W, b""),
        (APP_BASE, PAGE, PF_R, app[:0x200]),
        (LIB_BASE, PAGE, PF_R, bytes(lib_page0)),
        (LIB_BASE + PAGE, PAGE, PF_R | PF_W, bytes(lib_data)),
        (MISSING_BASE, PAGE, PF_R, ehdr(ET_DYN, 64, 0)),
        (DEVZERO_BASE, PAGE, PF_R | PF_W, b""),
        (STACK, 0x100, PF_R | PF_W, stack_bytes()),
    ]
    return core(notes, segs)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "fixtures/synth"
    os.makedirs(outdir, exist_ok=True)
    app = module(b"app", 0)
    lib = module(b"lib", 1)
    good = synth_core(app, lib)
    files = {
        "synthapp": app,
        "libsynth.so": lib,
        "synth.core": good,
        # Lost its last 0x180 bytes: the stack (0x100) and part of libmissing's page.
        "synth-truncated.core": good[:-0x180],
        # The core's libsynth.so first page carries another build-id.
        "synth-badbuildid.core": synth_core(app, lib, lib_core_bid=bytes(range(20))),
        # No AT_PHDR/AT_ENTRY and no NT_FILE: the exe comes from AT_EXECFN.
        "synth-execfn.core": synth_core(app, lib, with_phdr=False, with_file=False),
        "empty.core": b"",
        "notelf.core": b"this is not an ELF file\n",
        "short.core": b"\x7fELF\x02\x01\x01",
        "elf32.core": ehdr(ET_CORE, 64, 0, cls=1),
        "bigendian.core": ehdr(ET_CORE, 64, 0, data=2),
        "arm.core": ehdr(ET_CORE, 64, 0, machine=183),
        "exec.core": app[:0x40].replace(struct.pack("<H", ET_DYN), struct.pack("<H", ET_EXEC), 1)
                     + app[0x40:0x200],
        "badphnum.core": ehdr(ET_CORE, 64, 1000) + phdr(PT_NOTE, 0, 0, 0, 0, 0),
        "badphoff.core": ehdr(ET_CORE, 1 << 40, 1) + bytes(64),
        "badphentsize.core": bytearray(ehdr(ET_CORE, 64, 1)),
        # Notes with impossible sizes; NT_FILE claiming 2^60 entries; prpsinfo only.
        "badnotes.core": core([note(b"CORE", NT_PRPSINFO, prpsinfo(77, b"badapp", b"badapp")),
                               note(b"CORE", NT_FILE, struct.pack("<QQ", 1 << 60, PAGE) + bytes(40)),
                               struct.pack("<III", 5, 0xFFFFFFF0, 1) + b"CORE\0\0\0\0"],
                              [(HEAP, 0x40, PF_R, bytes(0x40))]),
    }
    files["badphentsize.core"][54:56] = struct.pack("<H", 32)
    files["badphentsize.core"] = bytes(files["badphentsize.core"]) + bytes(64)
    for name, data in files.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
