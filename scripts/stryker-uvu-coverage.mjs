// Preloaded (node --import, through NODE_OPTIONS so child processes get it too) into every process a
// test file starts while Stryker runs the suite (scripts/stryker-uvu-runner.mjs). It arms Stryker's
// hit limit and, at exit, writes what the instrumented code recorded to a file of its own in
// $STRYKER_UVU_OUT: the mutants this process executed (coverage) and how often the active one ran.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const outDir = process.env.STRYKER_UVU_OUT;
if (outDir) {
  // The instrumenter reuses this object (globalThis.__stryker__) and reads hitCount/hitLimit from it.
  const ns = (globalThis.__stryker__ ??= {});
  const hitLimit = Number(process.env.STRYKER_UVU_HIT_LIMIT);
  if (hitLimit > 0) {
    ns.hitCount = 0;
    ns.hitLimit = hitLimit;
  }
  process.on('exit', () => {
    const record = { hitCount: ns.hitCount, hitLimit: ns.hitLimit };
    // Everything this process ran counts for the test file that started it: each file gets fresh
    // processes, so code run while modules load is covered by that file as much as code run by a test.
    if (process.env.STRYKER_UVU_COVERAGE === '1') record.coverage = ns.mutantCoverage?.static ?? {};
    try {
      writeFileSync(join(outDir, `${process.pid}-${threadId}.json`), JSON.stringify(record));
    } catch {
      // The runner gave up on this file (timeout) and removed the directory: nothing to report.
    }
  });
}
