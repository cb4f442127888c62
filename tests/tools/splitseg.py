#!/usr/bin/python3
"""splitseg.py CORE ADDR OUT - CORE with the PT_LOAD segment holding ADDR cut
in two adjacent segments at ADDR (the data stays where it is; a new program
header table goes at the end of the file).  gcore writes a thread's malloc
arena as adjacent segments like these; an allocation across the cut must
read as one.  Exit 0, or 1 with a message."""
import struct
import sys


def main():
    src, addr, out = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
    data = bytearray(open(src, 'rb').read())
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        sys.exit('splitseg: %s: not a little-endian ELF64 file' % src)
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    phdrs = [bytearray(data[phoff + i * phentsize:phoff + (i + 1) * phentsize]) for i in range(phnum)]
    new = []
    done = False
    for ph in phdrs:
        p_type, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack('<IIQQQQQQ', ph)
        if not done and p_type == 1 and vaddr < addr < vaddr + filesz:
            cut = addr - vaddr
            new.append(struct.pack('<IIQQQQQQ', p_type, flags, off, vaddr, paddr, cut, cut, align))
            new.append(struct.pack('<IIQQQQQQ', p_type, flags, off + cut, addr, paddr + cut if paddr else 0,
                                   filesz - cut, memsz - cut, align))
            done = True
        else:
            new.append(bytes(ph))
    if not done:
        sys.exit('splitseg: %s: no dumped PT_LOAD segment holds 0x%x' % (src, addr))
    while len(data) % 8:
        data.append(0)
    struct.pack_into('<Q', data, 0x20, len(data))
    struct.pack_into('<H', data, 0x38, len(new))
    data += b''.join(new)
    open(out, 'wb').write(data)


if __name__ == '__main__':
    main()
