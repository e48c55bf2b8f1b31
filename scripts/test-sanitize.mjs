// `npm run test:sanitize`: builds the addon with ASan + UBSan (build-sanitize/) and runs the
// whole suite against it. Fails on any failed test or any sanitizer report, also one printed by a
// child process a test spawned (the output of every file is scanned).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildSanitized, hasSanitizerReport, root, sanitizerEnv } from './sanitizer.mjs';

buildSanitized();
const { env, preload } = sanitizerEnv();
process.stdout.write(`sanitizer runtime (LD_PRELOAD): ${preload.join(' ')}\n`);
process.stdout.write(`addon: ${env.SELECTLOOP_ADDON_PATH}\n`);

const child = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), ...process.argv.slice(2)], {
  cwd: root,
  // Every file's output is printed so that a report in a passing file is seen too. Slower under
  // ASan: a longer per-file limit.
  env: { ...env, TEST_VERBOSE: '1', TEST_FILE_TIMEOUT_MS: env.TEST_FILE_TIMEOUT_MS ?? '300000', SELECTLOOP_TEST_TIME_SCALE: env.SELECTLOOP_TEST_TIME_SCALE ?? '4' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (d) => {
  output += d;
  process.stdout.write(d);
});
child.on('close', (code, signal) => {
  const report = hasSanitizerReport(output);
  if (report) process.stdout.write('\ntest:sanitize: a sanitizer report was printed (see above)\n');
  else process.stdout.write('\ntest:sanitize: no sanitizer reports\n');
  process.exit(code === 0 && !signal && !report ? 0 : 1);
});
