// Scenarios whose failure mode kills the process (a segfault, an abort, a fatal signal) run in a
// child node process; the test checks how it ended.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The package root (where build/ and dist/ live). */
export const packageRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const addonPath = `${packageRoot}build/Release/selectloop.node`;
/** An importable URL/path of a compiled module, e.g. distModule('src/loop/index.js'). */
export const distModule = (rel: string): string => `${packageRoot}dist/${rel}`;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs an ES module source in a fresh node process; SIGKILLed after limitMs. */
export function runChild(source: string, limitMs = 20_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A one-line description of how the child ended, with its output, for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `code ${r.code} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
