// The addon loader: local build -> matching prebuild -> a clear error. A prebuild that is
// corrupt, truncated, for another machine or another libc is reported, never loaded or crashed on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadAddon, prebuildPath, detectLibc, currentTarget, sha256, AddonNotFoundError, NAPI_VERSION, packageRoot, type AddonTarget } from '../src/select/load-addon.js';

const builtAddon = join(packageRoot, 'build', 'Release', 'selectloop.node');
const glibc: AddonTarget = { platform: 'linux', arch: 'x64', libc: 'glibc', napi: 9 };

/**
 * A package root holding only prebuilds/: `files` maps a prebuild's name to its bytes, each with
 * its .sha256 (of `recorded` when given: a file corrupted after packing).
 */
function withRoot(files: Record<string, Buffer>, body: (root: string) => void, recorded?: Buffer): void {
  const root = mkdtempSync(join(tmpdir(), 'selectloop-loader-'));
  try {
    for (const [name, bytes] of Object.entries(files)) {
      const file = join(root, 'prebuilds', 'linux-x64', name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
      writeFileSync(`${file}.sha256`, `${sha256(recorded ?? bytes)}\n`);
    }
    body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function notFound(root: string, target: AddonTarget): AddonNotFoundError {
  try {
    loadAddon(root, target);
  } catch (err) {
    assert.instance(err, AddonNotFoundError);
    return err as AddonNotFoundError;
  }
  assert.unreachable('loaded');
  throw new Error('unreachable');
}

const runsHere = process.platform === 'linux' && process.arch === 'x64' && detectLibc() === 'glibc';

test('this process: the package loads its local build first', () => {
  assert.is(loadAddon().path, builtAddon);
  assert.is(NAPI_VERSION, JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).binary.napi_versions[0]);
  assert.match(readFileSync(join(packageRoot, 'CMakeLists.txt'), 'utf8'), `NAPI_VERSION=${NAPI_VERSION} `);
});

test('libc: found in-process, overridable, undefined off Linux', () => {
  assert.is(detectLibc('darwin'), undefined);
  if (process.platform === 'linux') assert.ok(['glibc', 'musl'].includes(detectLibc()!));
  const saved = process.env.SELECTLOOP_LIBC;
  process.env.SELECTLOOP_LIBC = 'musl';
  try {
    assert.is(detectLibc('linux'), 'musl');
  } finally {
    if (saved === undefined) delete process.env.SELECTLOOP_LIBC;
    else process.env.SELECTLOOP_LIBC = saved;
  }
  assert.is(currentTarget().napi, Number(process.versions.napi));
});

test('the matching prebuild loads when there is no local build', () => {
  if (!runsHere) return;
  withRoot({ 'selectloop.napi.glibc.node': readFileSync(builtAddon) }, (root) => {
    const { path, binding } = loadAddon(root, glibc);
    assert.is(path, prebuildPath(glibc, root));
    assert.type((binding as { pollWait: unknown }).pollWait, 'function');
  });
});

test('no prebuild: the error names the platform, libc, Node-API and both ways out', () => {
  withRoot({}, (root) => {
    const err = notFound(root, glibc);
    assert.is(err.code, 'ERR_SELECTLOOP_ADDON_NOT_FOUND');
    for (const part of ['linux-x64-glibc', 'Node-API 9', `>= ${NAPI_VERSION}`, 'build/Release/selectloop.node: not built',
      'prebuilds/linux-x64/: no prebuild', 'npm install-scripts approve selectloop', 'npm rebuild selectloop', 'cmake-js compile']) {
      assert.ok(err.message.includes(part), `${part} in:\n${err.message}`);
    }
  });
});

test('a garbage or truncated prebuild is reported, not crashed on (dlopen would die of SIGBUS)', () => {
  if (!runsHere) return;
  const real = readFileSync(builtAddon);
  const cases: Array<[Buffer, string]> = [
    [Buffer.from('this is not an ELF file at all'.repeat(100)), 'not an ELF shared object'],
    [Buffer.alloc(0), 'not an ELF shared object'],
    [real.subarray(0, 4096), 'truncated: '],
    [real.subarray(0, real.length - 1), 'truncated: '],
    [real.subarray(0, 60), 'truncated ELF header'],
  ];
  for (const [bytes, reason] of cases) {
    withRoot({ 'selectloop.napi.glibc.node': bytes }, (root) => {
      assert.match(notFound(root, glibc).message, `prebuilds/linux-x64/selectloop.napi.glibc.node: ${reason}`, `${bytes.length} bytes`);
    });
  }
});

test('a prebuild whose bytes changed after packing is refused before dlopen', () => {
  if (!runsHere) return;
  const real = readFileSync(builtAddon);
  const flipped = Buffer.from(real);
  flipped[flipped.length >> 1]! ^= 0xff; // inside the code: the ELF header alone would pass it
  withRoot({ 'selectloop.napi.glibc.node': flipped }, (root) => {
    assert.match(notFound(root, glibc).message, 'selectloop.napi.glibc.node: corrupt: its SHA-256 differs');
  }, real);
  withRoot({ 'selectloop.napi.glibc.node': real }, (root) => {
    rmSync(join(root, 'prebuilds', 'linux-x64', 'selectloop.napi.glibc.node.sha256'));
    assert.match(notFound(root, glibc).message, 'no selectloop.napi.glibc.node.sha256 beside it');
  });
});

test('a prebuild for another machine (ELF e_machine) is refused by dlopen and reported', () => {
  if (!runsHere) return;
  const other = Buffer.from(readFileSync(builtAddon));
  other.writeUInt16LE(183, 18); // EM_AARCH64 instead of EM_X86_64
  withRoot({ 'selectloop.napi.glibc.node': other }, (root) => {
    assert.match(notFound(root, glibc).message, 'selectloop.napi.glibc.node: built for ELF machine 183, this process is x64');
  });
});

test('a prebuild for the other libc is never loaded', () => {
  if (!runsHere) return;
  const real = readFileSync(builtAddon); // would load fine if the loader tried it
  withRoot({ 'selectloop.napi.musl.node': real }, (root) => {
    assert.match(notFound(root, glibc).message, 'prebuilds/linux-x64/: no prebuild');
  });
  withRoot({ 'selectloop.napi.glibc.node': real }, (root) => {
    assert.match(notFound(root, { ...glibc, libc: 'musl' }).message, 'built for glibc, this process runs on musl');
  });
  withRoot({ 'selectloop.napi.node': real }, (root) => {
    assert.match(notFound(root, glibc).message, 'built for an unnamed libc');
  });
});

test('a Node without the Node-API version the addon needs is told so before any dlopen', () => {
  withRoot({ 'selectloop.napi.glibc.node': Buffer.alloc(0) }, (root) => {
    assert.match(notFound(root, { ...glibc, napi: NAPI_VERSION - 1 }).message, `this Node offers Node-API ${NAPI_VERSION - 1}`);
  });
});

test('a broken local build is reported with the prebuild outcome', () => {
  withRoot({}, (root) => {
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    writeFileSync(join(root, 'build', 'Release', 'selectloop.node'), 'junk');
    const err = notFound(root, glibc);
    assert.match(err.message, 'build/Release/selectloop.node: not an ELF shared object');
    assert.match(err.message, 'prebuilds/linux-x64/: not tried: node-gyp-build prefers the build/ above');
  });
});

test.run();
