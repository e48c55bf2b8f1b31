// A shared object's header read before dlopen(). dlopen() maps a file's segments without checking
// that the file is long enough, so a truncated addon dies with SIGBUS on first touch instead of
// throwing; and the reason "wrong ELF machine" is clearer said by us. Returns why `bytes` cannot
// be this process's addon, or undefined when the header and every loaded segment fit.
import { endianness } from 'node:os';

const ELF_MACHINE: Record<string, number> = { ia32: 3, arm: 40, x64: 62, ppc64: 21, s390x: 22, arm64: 183, riscv64: 243, loong64: 258 };
const BITS32 = new Set(['ia32', 'arm']);
const ET_DYN = 3;
const PT_LOAD = 1;

/** Platforms whose addons are ELF files. */
export function usesElf(platform: string): boolean {
  return platform !== 'darwin' && platform !== 'win32';
}

/**
 * `bytes`: the file's first bytes (at least its ELF and program headers); `size`: the file's size
 * (default: bytes.length, the whole file).
 */
export function elfProblem(bytes: Buffer, arch: string, size = bytes.length): string | undefined {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF shared object';
  const is64 = bytes[4] === 2;
  if (is64 === BITS32.has(arch)) return `an ELF${is64 ? 64 : 32} file, this process is ${arch}`;
  const little = bytes[5] === 1;
  if (little !== (endianness() === 'LE')) return 'an ELF file of the other byte order';
  if (is64 && bytes.length < 64) return 'truncated ELF header';
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number) => (is64 ? Number(little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : u32(at));
  if (u16(16) !== ET_DYN) return 'not a shared object (ELF e_type)';
  const machine = u16(18);
  if (ELF_MACHINE[arch] !== undefined && machine !== ELF_MACHINE[arch]) return `built for ELF machine ${machine}, this process is ${arch}`;

  const [phoff, shoff] = is64 ? [word(32), word(40)] : [u32(28), u32(32)];
  const [phentsize, phnum, shentsize, shnum] = is64 ? [u16(54), u16(56), u16(58), u16(60)] : [u16(42), u16(44), u16(46), u16(48)];
  if (phoff + phentsize * phnum > size) return `truncated: program headers end past the file's ${size} bytes`;
  if (phoff + phentsize * phnum > bytes.length) return `program headers past the first ${bytes.length} bytes (not a shared object a linker made)`;
  if (shoff !== 0 && shoff + shentsize * shnum > size) return `truncated: section headers end past the file's ${size} bytes`;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (u32(at) !== PT_LOAD) continue;
    const [offset, filesz] = is64 ? [word(at + 8), word(at + 32)] : [u32(at + 4), u32(at + 16)];
    if (offset + filesz > size) return `truncated: a loaded segment ends past the file's ${size} bytes`;
  }
  return undefined;
}
