// Finds and loads the compiled addon (cpp/), in this order:
//   1. a source build in the package's build/ (a developer's checkout, or a consumer whose
//      approved install script compiled it),
//   2. the prebuild for this platform, arch and libc in prebuilds/<platform>-<arch>/, named as
//      node-gyp-build expects (e.g. selectloop.napi.glibc.node) and located by node-gyp-build,
//   3. else an error naming what was looked for and the two ways out.
// Nothing here spawns a process, and a file that cannot be ours is reported, never crashed on:
// every candidate's ELF header is checked first (a truncated file makes dlopen() die of SIGBUS),
// a prebuild must match the SHA-256 recorded beside it at pack time (corruption), and it is only
// loaded when its libc tag is this process's libc (a glibc binary on musl can load, then crash).
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elfProblem, usesElf } from './elf-check.js';

const require = createRequire(import.meta.url);

export const ADDON_NAME = 'selectloop';
/** The Node-API version the addon is compiled for (CMakeLists.txt NAPI_VERSION, package.json binary.napi_versions). */
export const NAPI_VERSION = 8;

export type Libc = 'glibc' | 'musl';

/** What a prebuild must match; the defaults describe this process. */
export interface AddonTarget {
  platform: string;
  arch: string;
  /** Linux only; undefined elsewhere. */
  libc: Libc | undefined;
  /** Node-API version this Node offers (process.versions.napi). */
  napi: number;
}

export interface LoadedAddon {
  binding: unknown;
  path: string;
}

/** The package root: this file is <root>/dist/src/select/load-addon.js. */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * This process's C library, found in-process: SELECTLOOP_LIBC or LIBC (node-gyp-build's own
 * override) when set, else the diagnostic report, whose header names the glibc version glibc
 * builds of Node run on and is silent under musl.
 */
export function detectLibc(platform: string = process.platform): Libc | undefined {
  if (platform !== 'linux') return undefined;
  const override = process.env.SELECTLOOP_LIBC || process.env.LIBC;
  if (override === 'glibc' || override === 'musl') return override;
  const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true; // the report would otherwise resolve the names of open sockets
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return header?.glibcVersionRuntime ? 'glibc' : 'musl';
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
}

export function currentTarget(): AddonTarget {
  return {
    platform: process.platform,
    arch: process.arch,
    libc: detectLibc(),
    napi: Number(process.versions.napi ?? 0),
  };
}

function describeTarget(t: AddonTarget): string {
  return `${t.platform}-${t.arch}${t.libc ? `-${t.libc}` : ''} (Node-API ${t.napi}, the addon needs >= ${NAPI_VERSION})`;
}

/** Our addon exports these; any other module found under our name is a mismatch. */
function looksLikeOurs(binding: unknown): boolean {
  const b = binding as Record<string, unknown> | null;
  return typeof b === 'object' && b !== null && typeof b.pollWait === 'function' && typeof b.LoopWatcher === 'function';
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!;
}

/** The SHA-256 a prebuild must have: `<file>.sha256`, written by scripts/prepack.mjs. */
export function checksumPath(file: string): string {
  return `${file}.sha256`;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The file is read in pieces this large, never whole: malloc() maps a block above 128 KiB (an
 * addon is ~330 KiB) with mmap, and freeing one raises glibc's trim threshold to twice its size for
 * the life of the process, so every thread's arena then keeps that much freed memory (V8's compiler
 * zones: ~1 MB more RSS in a server that just started, issue 15).
 */
const PIECE = 64 * 1024;

/** The file's first PIECE bytes, its size and, if asked, its SHA-256. */
function readAddonFile(file: string, withHash: boolean): { head: Buffer; size: number; digest: string | null } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, PIECE));
    const got = readSync(fd, head, 0, head.length, 0);
    if (!withHash) return { head: head.subarray(0, got), size, digest: null };
    const hash = createHash('sha256').update(head.subarray(0, got));
    const piece = Buffer.allocUnsafe(PIECE);
    for (let at = got, n = got; n > 0; at += n) {
      n = readSync(fd, piece, 0, PIECE, at);
      hash.update(piece.subarray(0, n));
    }
    return { head: head.subarray(0, got), size, digest: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** Why `file` must not be passed to dlopen(), if it must not. */
function fileProblem(file: string, withChecksum: boolean): string | undefined {
  let read: { head: Buffer; size: number; digest: string | null };
  try {
    read = readAddonFile(file, withChecksum);
  } catch (err) {
    return firstLine(err);
  }
  if (withChecksum) {
    let expected: string;
    try {
      expected = readFileSync(checksumPath(file), 'utf8').trim().split(/\s/)[0]!;
    } catch {
      return `no ${basename(checksumPath(file))} beside it to verify it`;
    }
    if (read.digest !== expected) return 'corrupt: its SHA-256 differs from the one recorded at pack time';
  }
  return usesElf(process.platform) ? elfProblem(read.head, process.arch, read.size) : undefined;
}

/** Loads `file`, or returns why it could not. */
function tryLoad(file: string, withChecksum = false): { binding: unknown } | { reason: string } {
  const problem = fileProblem(file, withChecksum);
  if (problem) return { reason: problem };
  let binding: unknown;
  try {
    binding = require(file);
  } catch (err) {
    return { reason: firstLine(err) };
  }
  return looksLikeOurs(binding) ? { binding } : { reason: 'not the selectloop addon' };
}

/** The prebuild node-gyp-build picks for `root`: a path, or why there is none. */
function findPrebuild(root: string): { file: string } | { none: string } {
  const nodeGypBuild = require('node-gyp-build/node-gyp-build.js') as { path(dir: string): string };
  let file: string;
  try {
    file = nodeGypBuild.path(root);
  } catch {
    return { none: 'no prebuild for this platform and arch' };
  }
  // node-gyp-build looks in build/ first, and that was tried already.
  if (!file.startsWith(join(root, 'prebuilds') + sep)) return { none: 'not tried: node-gyp-build prefers the build/ above (delete build/ to use a prebuild)' };
  return { file };
}

/** Why a prebuild's name rules it out for `target`, if it does. */
function prebuildMismatch(file: string, target: AddonTarget): string | undefined {
  const tags = basename(file).split('.');
  if (!tags.includes('napi')) return 'not a Node-API build (no "napi" tag)';
  const libc = tags.find((tag) => tag === 'glibc' || tag === 'musl');
  if (target.libc && libc !== target.libc) return `built for ${libc ?? 'an unnamed libc'}, this process runs on ${target.libc}`;
  return undefined;
}

export class AddonNotFoundError extends Error {
  readonly code = 'ERR_SELECTLOOP_ADDON_NOT_FOUND';
  constructor(target: AddonTarget, tried: string[]) {
    super(
      [
        `selectloop: no native addon loads on ${describeTarget(target)}.`,
        ...tried.map((line) => `  - ${line}`),
        'Two ways out (both need cmake and a C++17 compiler):',
        "  1. let npm run selectloop's install script, which builds the addon when no prebuild fits:",
        '       npm install-scripts approve selectloop && npm rebuild selectloop',
        '  2. or build it from source with cmake-js yourself:',
        '       npm install cmake-js node-addon-api && npx cmake-js compile -d node_modules/selectloop',
      ].join('\n'),
    );
    this.name = 'AddonNotFoundError';
  }
}

/** Loads the addon from `root` for `target` (see the order at the top of this file). */
export function loadAddon(root: string = packageRoot, target?: AddonTarget): LoadedAddon {
  const tried: string[] = [];
  for (const config of ['Release', 'Debug']) {
    const file = join(root, 'build', config, `${ADDON_NAME}.node`);
    if (!existsSync(file)) continue;
    const result = tryLoad(file);
    if ('binding' in result) return { binding: result.binding, path: file };
    tried.push(`${relative(root, file)}: ${result.reason}`);
  }
  if (tried.length === 0) tried.push(`build/Release/${ADDON_NAME}.node: not built from source`);

  target ??= currentTarget();
  const prebuildDir = `prebuilds/${target.platform}-${target.arch}`;
  if (target.napi < NAPI_VERSION) {
    tried.push(`${prebuildDir}: not tried, this Node offers Node-API ${target.napi} (update Node)`);
    throw new AddonNotFoundError(target, tried);
  }
  const found = findPrebuild(root);
  if ('none' in found) {
    tried.push(`${prebuildDir}/: ${found.none}`);
    throw new AddonNotFoundError(target, tried);
  }
  const mismatch = prebuildMismatch(found.file, target);
  const result = mismatch ? { reason: mismatch } : tryLoad(found.file, true);
  if ('binding' in result) return { binding: result.binding, path: found.file };
  tried.push(`${relative(root, found.file)}: ${result.reason}`);
  throw new AddonNotFoundError(target, tried);
}

/** The directory holding the prebuilds for `target` (where `npm pack` puts this machine's build). */
export function prebuildPath(target: AddonTarget, root: string = packageRoot): string {
  const tags = ['napi', ...(target.libc ? [target.libc] : [])];
  return join(root, 'prebuilds', `${target.platform}-${target.arch}`, `${ADDON_NAME}.${tags.join('.')}.node`);
}
