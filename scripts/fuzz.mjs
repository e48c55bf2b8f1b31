// `npm run fuzz [-- --minutes N | --seconds N] [--seed S]`: fuzzes the addon's native surface
// (scripts/fuzz-child.mjs) in child processes against the ASan + UBSan build. Each child runs one
// seed for a slice of the time; a crash, a hang (no progress for 30 s), a sanitizer report or an
// exception other than TypeError/RangeError fails the run and prints the seed and the call.
// Default: 45 s (the CI run).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSanitized, hasSanitizerReport, root, sanitizerEnv } from './sanitizer.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const totalMs = opt('minutes') !== undefined ? opt('minutes') * 60_000 : (opt('seconds') ?? 45) * 1000;
const sliceMs = Math.min(totalMs, 15_000);
let seed = opt('seed') ?? (Date.now() % 1_000_000);
const hangMs = 30_000;

buildSanitized();
const { env, preload } = sanitizerEnv();
process.stdout.write(`fuzz: sanitizer runtime ${preload.join(' ')}; ${totalMs / 1000} s in slices of ${sliceMs / 1000} s\n`);
const work = mkdtempSync(join(tmpdir(), 'selectloop-fuzz-'));

function runSlice(seed) {
  return new Promise((resolve) => {
    const progressPath = join(work, `progress-${seed}`);
    const child = spawn(process.execPath, [join(root, 'scripts', 'fuzz-child.mjs'), String(seed), String(sliceMs), progressPath], {
      cwd: work, // AF_UNIX binds with relative paths land here
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let lastProgress = '';
    // Starting Node under ASan on a loaded machine takes a while: the clock starts at the first call.
    let lastChange = Date.now() + 90_000;
    let hung = false;
    const watchdog = setInterval(() => {
      let now = '';
      try {
        now = readFileSync(progressPath, 'utf8');
      } catch {}
      if (now !== lastProgress) {
        lastProgress = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > hangMs) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, 1000);
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      let last = '';
      try {
        last = readFileSync(progressPath, 'utf8').trim();
      } catch {}
      resolve({ code, signal, output, last, hung });
    });
  });
}

const end = Date.now() + totalMs;
let slices = 0;
let failed = false;
while (Date.now() < end && !failed) {
  const r = await runSlice(seed);
  slices++;
  const report = hasSanitizerReport(r.output);
  const summary = /fuzz: \d+ calls.*/.exec(r.output)?.[0] ?? '';
  if (r.hung || r.code !== 0 || r.signal || report) {
    failed = true;
    const why = r.hung ? `no progress for ${hangMs / 1000} s (hang)` : report ? 'sanitizer report' : `exit ${r.code ?? r.signal}`;
    process.stdout.write(`\nFUZZ FAILED (${why}), seed ${seed}\nlast call: ${r.last}\n--- child output ---\n${r.output}\n`);
    process.stdout.write(`reproduce: npm run fuzz -- --seconds ${sliceMs / 1000} --seed ${seed}\n`);
  } else {
    process.stdout.write(`seed ${seed}: ${summary.replace('fuzz: ', '')}\n`);
  }
  seed++;
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(failed ? 'fuzz: FAILED\n' : `fuzz: ${slices} slices, no crash, hang, sanitizer report or unexpected exception\n`);
process.exit(failed ? 1 : 0);
