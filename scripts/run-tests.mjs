// Runs each compiled test file (dist/test/**/*.test.js) in its own process with a time limit,
// two at a time, and ends with one line: "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const perFileLimitMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 120_000);
const filter = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = findTests(testDir).filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${relative(root, file)} exceeded ${perFileLimitMs} ms; killed\n`;
      child.kill('SIGKILL');
    }, perFileLimitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
      // A file that crashed or hung counts as one failure even if uvu printed nothing.
      let failed = total - passed - skipped;
      if ((code !== 0 || signal) && failed === 0) failed = 1;
      resolve({ file, output, passed, failed, skipped });
    });
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const queue = [...files];
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const r = await runFile(file);
      passed += r.passed;
      failed += r.failed;
      skipped += r.skipped;
      const name = relative(root, r.file);
      process.stdout.write(`\n=== ${name}: ${r.passed} passed, ${r.failed} failed\n`);
      if (r.failed > 0 || process.env.TEST_VERBOSE) process.stdout.write(r.output);
    }
  }),
);
if (files.length === 0) failed += 1;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed === 0 ? 0 : 1);
