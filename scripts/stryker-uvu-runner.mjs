// A Stryker test-runner plugin ("uvu-files") for the uvu suite, where each test file is one "test":
// scripts/run-tests.mjs runs every file in a process of its own, and so does this runner.
//
// - dryRun runs every file with scripts/stryker-uvu-coverage.mjs preloaded, which records the
//   mutants each process (and any node process it starts) executed; that is the file's coverage, so
//   Stryker can use coverageAnalysis "perTest".
// - mutantRun runs only the files covering the mutant (those that killed mutants of the same
//   source file first, then the quickest), in fresh processes with the
//   mutant active from the start (so static mutants are handled too), stops at the first failing
//   file (unless disableBail), and reports a timeout when a file overruns its budget or the
//   mutant's hit limit is exceeded.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commonTokens, declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';
import { DryRunStatus, MutantRunStatus, TestStatus } from '@stryker-mutator/api/test-runner';

const preload = pathToFileURL(fileURLToPath(new URL('./stryker-uvu-coverage.mjs', import.meta.url))).href;
// Durations of the dry run, shared with the other runner processes through the sandbox.
const timesFile = '.stryker-uvu-times.json';
// A file that hangs under a mutant is stopped after this much more than its dry-run time.
const fileSlackMs = Number(process.env.STRYKER_UVU_FILE_SLACK_MS ?? 10_000);
const fileFactor = 3;

function findTestFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTestFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

// Test id: the source file, e.g. "test/timer-heap.test.ts"; compiled to dist/test/timer-heap.test.js.
const idOf = (root, compiled) => relative(join(root, 'dist'), compiled).replace(/\.js$/, '.ts');
const compiledOf = (root, id) => join(root, 'dist', id.replace(/\.ts$/, '.js'));

function uvuFailures(output, code, signal) {
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
  let failed = total - passed - skipped;
  // A file that crashed or exited non-zero counts as failed even if uvu printed nothing.
  if ((code !== 0 || signal) && failed === 0) failed = 1;
  return { failed, ran: total - skipped };
}

class UvuFilesTestRunner {
  static inject = [commonTokens.logger];
  root = process.cwd();
  children = new Set();
  times;
  /** source file -> test id -> mutants of that file the test killed (in this process). */
  killsBySource = {};

  constructor(logger) {
    this.log = logger;
  }

  capabilities() {
    return { reloadEnvironment: true };
  }

  // Runs one test file; resolves with its outcome and what its processes recorded.
  runFile(id, { env, budgetMs }) {
    const outDir = mkdtempSync(join(tmpdir(), 'stryker-uvu-'));
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [compiledOf(this.root, id)], {
        cwd: this.root,
        detached: true, // its own process group, so a timeout also ends whatever it started
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          // The machine is shared while mutants run: give the suite's own time limits more room.
          SELECTLOOP_TEST_TIME_SCALE: '2',
          ...process.env,
          ...env,
          FORCE_COLOR: '0',
          NODE_OPTIONS: nodeOptions,
          STRYKER_UVU_OUT: outDir,
        },
      });
      this.children.add(child);
      let output = '';
      const keep = (d) => {
        output += d;
        if (output.length > 64_000) output = output.slice(-32_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, budgetMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        killGroup(child); // anything it started and left running
        this.children.delete(child);
        const records = [];
        for (const name of readdirSync(outDir)) {
          try {
            records.push(JSON.parse(readFileSync(join(outDir, name), 'utf8')));
          } catch {
            // a process killed mid-write: its record is lost, as its coverage would be
          }
        }
        rmSync(outDir, { recursive: true, force: true });
        const hitLimitReached = records.some((r) => r.hitLimit !== undefined && r.hitCount > r.hitLimit);
        resolve({ id, output, timedOut, hitLimitReached, records, ms: Date.now() - started, ...uvuFailures(output, code, signal) });
      });
    });
  }

  async dryRun(options) {
    const ids = findTestFiles(join(this.root, 'dist', 'test')).map((f) => idOf(this.root, f));
    const wantCoverage = options.coverageAnalysis !== 'off';
    const deadline = Date.now() + options.timeout;
    const results = [];
    const queue = [...ids];
    const concurrency = Number(process.env.STRYKER_UVU_DRY_CONCURRENCY ?? 2);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          const env = wantCoverage ? { STRYKER_UVU_COVERAGE: '1' } : {};
          let r = await this.runFile(id, { env, budgetMs: Math.max(1, deadline - Date.now()) });
          // Without a mutant a failure is the load, not the code: one more try before Stryker gives up.
          if (r.failed > 0 || r.timedOut) {
            this.log.warn(`${id} failed in the dry run; running it once more:\n${r.output.slice(-2000)}`);
            r = await this.runFile(id, { env, budgetMs: Math.max(1, deadline - Date.now()) });
          }
          results.push(r);
        }
      }),
    );
    if (results.some((r) => r.timedOut)) return { status: DryRunStatus.Timeout, reason: results.filter((r) => r.timedOut).map((r) => r.id).join(', ') };
    results.sort((a, b) => a.ms - b.ms);
    this.times = Object.fromEntries(results.map((r) => [r.id, r.ms]));
    writeFileSync(join(this.root, timesFile), JSON.stringify(this.times));
    const tests = results.map((r) => {
      const base = { id: r.id, name: r.id, timeSpentMs: r.ms, fileName: join(this.root, r.id) };
      return r.failed > 0 ? { ...base, status: TestStatus.Failed, failureMessage: r.output.slice(-4000) } : { ...base, status: TestStatus.Success };
    });
    const perTest = {};
    if (wantCoverage) {
      for (const r of results) {
        const covered = (perTest[r.id] = {});
        for (const rec of r.records) for (const [mutant, hits] of Object.entries(rec.coverage ?? {})) covered[mutant] = (covered[mutant] ?? 0) + hits;
      }
    }
    return { status: DryRunStatus.Complete, tests, mutantCoverage: wantCoverage ? { static: {}, perTest } : undefined };
  }

  async mutantRun(options) {
    this.times ??= JSON.parse(readFileSync(join(this.root, timesFile), 'utf8'));
    // Files that killed mutants of this source file before go first (most kills first), then the
    // rest, quickest first: a mutant is usually killed by the tests of its own module.
    const kills = (this.killsBySource[options.activeMutant.fileName] ??= {});
    const ids = (options.testFilter ?? Object.keys(this.times))
      .slice()
      .sort((a, b) => (kills[b] ?? 0) - (kills[a] ?? 0) || (this.times[a] ?? 0) - (this.times[b] ?? 0));
    const deadline = Date.now() + options.timeout;
    const env = { __STRYKER_ACTIVE_MUTANT__: options.activeMutant.id };
    if (options.hitLimit !== undefined) env.STRYKER_UVU_HIT_LIMIT = String(options.hitLimit);
    const killedBy = [];
    let failureMessage;
    let ran = 0;
    for (const id of ids) {
      const left = deadline - Date.now();
      if (left <= 0) return { status: MutantRunStatus.Timeout, reason: `time for the mutant ran out before ${id}` };
      const budgetMs = Math.min(left, (this.times[id] ?? 0) * fileFactor + fileSlackMs);
      const r = await this.runFile(id, { env, budgetMs });
      ran += r.ran;
      if (r.timedOut) return { status: MutantRunStatus.Timeout, reason: `${id} ran over ${budgetMs} ms` };
      if (r.hitLimitReached) return { status: MutantRunStatus.Timeout, reason: `hit limit reached in ${id}` };
      if (r.failed > 0) {
        killedBy.push(id);
        kills[id] = (kills[id] ?? 0) + 1;
        failureMessage ??= r.output.slice(-2000);
        if (!options.disableBail) break;
      }
    }
    if (killedBy.length) return { status: MutantRunStatus.Killed, killedBy, failureMessage, nrOfTests: ran };
    return { status: MutantRunStatus.Survived, nrOfTests: ran };
  }

  async dispose() {
    for (const child of this.children) killGroup(child);
  }
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'uvu-files', UvuFilesTestRunner)];
