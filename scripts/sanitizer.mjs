// The sanitizer build (ASan + UBSan) and the environment a Node process needs to load it.
// Shared by `npm run test:sanitize` and `npm run fuzz`.
//
// Node itself is not instrumented, so the sanitizer runtime has to be the first library loaded:
// LD_PRELOAD of the compiler's own libasan/libubsan (the ones the addon was linked against).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
export const buildDir = join(root, 'build-sanitize');
export const addonPath = join(buildDir, 'Release', 'selectloop.node');

/** Builds the addon with -DSELECTLOOP_SANITIZE=ON into build-sanitize/ (incremental). */
export function buildSanitized() {
  const cmakeJs = join(root, 'node_modules', '.bin', 'cmake-js');
  const r = spawnSync(cmakeJs, ['compile', '--log-level', 'warn', '-O', 'build-sanitize', '--CDSELECTLOOP_SANITIZE=ON'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`sanitizer build failed (exit ${r.status})`);
  if (!existsSync(addonPath)) throw new Error(`sanitizer build produced no ${addonPath}`);
}

/** The runtime libraries the addon was linked against, resolved through the compiler. */
function runtimes() {
  const compiler = process.env.CXX || 'c++';
  const libs = [];
  for (const name of ['libasan.so', 'libubsan.so']) {
    const path = execFileSync(compiler, [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
    // An unknown name comes back unchanged (no directory): that compiler has no such runtime.
    if (!path.includes('/') || !existsSync(path)) throw new Error(`${compiler} has no ${name} (install libasan/libubsan)`);
    libs.push(realpathSync(path));
  }
  return libs;
}

/**
 * Environment for a process that loads the sanitizer build. Leak checking: LSan runs at exit and
 * Node does not free its isolate, V8 heap pages, libuv loop and OpenSSL tables before exiting, so
 * the few V8 heap internals it leaves behind are suppressed by name (scripts/lsan-node.supp says
 * why each is safe: no allocation made by the addon passes through them).
 */
export function sanitizerEnv(base = process.env) {
  const preload = runtimes();
  const env = {
    ...base,
    SELECTLOOP_ADDON_PATH: addonPath,
    LD_PRELOAD: [...preload, base.LD_PRELOAD].filter(Boolean).join(' '),
    ASAN_OPTIONS: [
      'detect_leaks=1',
      'abort_on_error=1',
      'halt_on_error=1',
      'detect_odr_violation=0',
      'allocator_may_return_null=1',
      base.ASAN_OPTIONS,
    ]
      .filter(Boolean)
      .join(':'),
    LSAN_OPTIONS: [`suppressions=${join(root, 'scripts', 'lsan-node.supp')}`, 'print_suppressions=0', base.LSAN_OPTIONS]
      .filter(Boolean)
      .join(':'),
    UBSAN_OPTIONS: ['halt_on_error=1', 'print_stacktrace=1', base.UBSAN_OPTIONS].filter(Boolean).join(':'),
  };
  return { env, preload };
}

/** True if the text holds a sanitizer report. */
export function hasSanitizerReport(text) {
  return /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer/.test(text);
}
