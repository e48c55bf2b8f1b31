// Installs selectloop as a user would and uses it (issue 10): `npm pack`, then a fresh project in
// a temporary directory with default npm settings (dependency install scripts not approved):
//   (a) ESM import of every subpath + an echo round trip through a Reactor server, node:net client
//   (b) CommonJS require('selectloop') (require(esm): by default on Node >= 20.19 and 22.12)
//   (c) a strict TypeScript consumer (.mts) type-checks every subpath under moduleResolution
//       node16, nodenext and bundler (tsc from this repository's devDependencies)
//   (d) cmake absent from PATH: install (scripts approved too) and the echo still work
//   (e) prebuild removed: import fails with the loader's clear error; with scripts approved and
//       npm_config_build_from_source=true, `npm rebuild selectloop` compiles it and the echo works
// Each check prints PASS or FAIL; the exit status is non-zero if any failed.
//   node scripts/consumer-test.mjs [--tarball file.tgz] [--echo-node /path/to/node]...
// --echo-node runs check (a) under that Node too, with the same installed prebuild.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({ options: { tarball: { type: 'string' }, 'echo-node': { type: 'string', multiple: true } } });
const npmCli = process.env.npm_execpath; // set when run through `npm run`
const STEP_TIMEOUT_MS = 300_000;
const work = mkdtempSync(join(tmpdir(), 'selectloop-consumer-'));
let failures = 0;

function run(cmd, argv, { cwd = work, env = process.env, allowFail = false } = {}) {
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status ?? r.signal}:\n${out}`);
  return { status: r.status, out };
}

const npm = (argv, opts) => (npmCli ? run(process.execPath, [npmCli, ...argv], opts) : run('npm', argv, opts));
const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];

function check(name, body) {
  try {
    const detail = body();
    console.log(`PASS ${name}${detail ? ` — ${detail}` : ''}`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
  }
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A fresh project with the tarball installed with default npm settings. */
function freshProject(name, tarball, env = process.env) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true }));
  npm(['install', ...quiet, tarball], { cwd: dir, env });
  return dir;
}

const subpaths = ['selectloop', 'selectloop/select', 'selectloop/selectors', 'selectloop/loop', 'selectloop/transports'];

const ESM_ECHO = `
${subpaths.map((p, i) => `import * as m${i} from '${p}';`).join('\n')}
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
for (const [name, m] of [${subpaths.map((p, i) => `['${p}', m${i}]`).join(', ')}]) {
  if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing');
}
const { Reactor } = m3;
const reactor = new Reactor();
reactor.attach();
const server = reactor.createServer(() => {
  let transport;
  return { connectionMade(t) { transport = t; }, dataReceived(data) { transport.write(data); } };
}, { host: '127.0.0.1', port: 0 });
const [, port] = server.address();
const payload = Buffer.from('selectloop echo under ' + process.version);
const echoed = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('echo timed out')), 10000);
  const client = createConnection({ host: '127.0.0.1', port }, () => client.write(payload));
  const chunks = [];
  client.on('data', (d) => {
    chunks.push(d);
    if (Buffer.concat(chunks).length >= payload.length) { clearTimeout(timer); client.end(); resolve(Buffer.concat(chunks)); }
  });
  client.on('error', reject);
});
server.close();
reactor.close();
if (!echoed.equals(payload)) throw new Error('echo mismatch: ' + echoed);
// Which addon file this process mapped: the proof of what served it.
const addon = readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5]).find((f) => f && f.endsWith('.node'));
console.log('echo ' + echoed.length + ' bytes, Node ' + process.version + ' (Node-API ' + process.versions.napi + '), addon ' + addon);
process.exit(0);
`;

/** Runs the ESM echo in `dir` with `node`; returns the detail line. */
function esmEcho(dir, node = process.execPath, env = process.env) {
  writeFileSync(join(dir, 'echo.mjs'), ESM_ECHO);
  const { out } = run(node, ['echo.mjs'], { cwd: dir, env });
  const addon = /addon (\S+)/.exec(out)?.[1];
  if (!addon || !existsSync(addon)) throw new Error(`no addon path in: ${out}`);
  return `${out.trim()} sha256 ${sha256(addon).slice(0, 16)}`;
}

const TS_CONSUMER = `
${subpaths.map((p, i) => `import * as m${i} from '${p}';`).join('\n')}
import { Reactor } from 'selectloop/loop';
import { DefaultSelector, EVENT_READ, type SelectorKey } from 'selectloop/selectors';
import { epoll, EPOLLIN, EPOLLET, ValueError } from 'selectloop/select';
import { Socket, type Protocol, type Transport } from 'selectloop/transports';
const reactor: Reactor = new m3.Reactor();
const sel: DefaultSelector<string> = new m2.DefaultSelector<string>();
const key: SelectorKey<string> | undefined = undefined;
const mask: number = EPOLLIN | EPOLLET;
const p: Protocol = { dataReceived(data: Buffer): void {}, connectionMade(t: Transport): void {} };
const sock: typeof Socket = m4.Socket;
const err: typeof ValueError = m1.ValueError;
export const used = [reactor, sel, key, mask, p, sock, err, epoll, EVENT_READ, m0.Reactor];
`;

let tarball = args.tarball;
try {
  if (!tarball) {
    const { out } = npm(['pack', '--pack-destination', work, '--loglevel=error'], { cwd: repo });
    tarball = join(work, out.trim().split('\n').pop());
  }
  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  check('tarball: dist/src, prebuilds, cpp, CMakeLists.txt, README, LICENSE; no tests, bench or build/', () => {
    const bad = listing.filter((f) => !/^package\/(dist\/src\/.*\.(js|d\.ts)|prebuilds\/.+|cpp\/.+|CMakeLists\.txt|README\.md|LICENSE|package\.json|scripts\/verify-or-build\.mjs)$/.test(f));
    if (bad.length) throw new Error(`unexpected files: ${bad.join(', ')}`);
    for (const need of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/CMakeLists.txt', 'package/LICENSE', 'package/README.md']) {
      if (!listing.includes(need)) throw new Error(`missing ${need}`);
    }
    const prebuilds = listing.filter((f) => f.startsWith('package/prebuilds/') && f.endsWith('.node'));
    if (prebuilds.length === 0) throw new Error('no prebuild');
    return `${listing.length} files, ${readFileSync(tarball).length} bytes; ${prebuilds.map((f) => f.slice(8)).join(', ')}`;
  });

  const project = freshProject('default', tarball);
  const installed = join(project, 'node_modules', 'selectloop');
  check('install with default npm settings: the install script did not run, no build/ tree', () => {
    if (existsSync(join(installed, 'build'))) throw new Error('build/ exists: something compiled');
    return `${readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.')).length} packages in node_modules`;
  });
  check('(a) ESM import of every subpath + Reactor echo with a node:net client', () => esmEcho(project));
  for (const node of args['echo-node'] ?? []) {
    check(`(a) the same under ${node}`, () => esmEcho(project, node));
  }

  check("(b) CommonJS require('selectloop')", () => {
    writeFileSync(join(project, 'req.cjs'), `const s = require('selectloop'); if (typeof s.Reactor !== 'function' || typeof s.epoll !== 'function') throw new Error('incomplete'); console.log(Object.keys(s).length + ' exports');`);
    const [major, minor] = process.versions.node.split('.').map(Number);
    const flag = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19) ? [] : ['--experimental-require-module'];
    const { out } = run(process.execPath, [...flag, 'req.cjs'], { cwd: project, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    return `${out.trim()} on Node ${process.version}${flag.length ? ' (with --experimental-require-module)' : ' (require(esm) by default)'}`;
  });

  check('(c) strict TypeScript consumer (.mts) under node16, nodenext and bundler', () => {
    writeFileSync(join(project, 'consumer.mts'), TS_CONSUMER);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = join(repo, 'node_modules', '@types');
    for (const [module, resolution] of [['node16', 'node16'], ['nodenext', 'nodenext'], ['esnext', 'bundler']]) {
      run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', module, '--moduleResolution', resolution,
        '--typeRoots', types, '--types', 'node', 'consumer.mts'], { cwd: project });
    }
    return 'tsc --strict clean ×3';
  });

  // PATH with node and npm but no cmake: a directory of symlinks to everything else on PATH.
  const noCmakeBin = join(work, 'bin-without-cmake');
  mkdirSync(noCmakeBin);
  for (const dir of (process.env.PATH ?? '').split(delimiter).reverse()) {
    let names = [];
    try {
      names = readdirSync(dir);
    } catch {}
    for (const n of names) {
      if (n === 'cmake') continue;
      rmSync(join(noCmakeBin, n), { force: true });
      symlinkSync(join(dir, n), join(noCmakeBin, n));
    }
  }
  rmSync(join(noCmakeBin, 'node'), { force: true });
  symlinkSync(process.execPath, join(noCmakeBin, 'node'));
  const noCmake = { ...process.env, PATH: noCmakeBin };
  check('(d) cmake absent from PATH: install and echo work from the prebuild, scripts approved or not', () => {
    if (run('sh', ['-c', 'command -v cmake'], { env: noCmake, allowFail: true }).status === 0) throw new Error('cmake still on PATH');
    const dir = freshProject('no-cmake', tarball, noCmake);
    const first = esmEcho(dir, process.execPath, noCmake);
    npm(['install-scripts', 'approve', 'selectloop', ...quiet], { cwd: dir, env: noCmake });
    const { out } = npm(['rebuild', 'selectloop', '--foreground-scripts'], { cwd: dir, env: noCmake });
    if (!/selectloop: using .*prebuilds/.test(out)) throw new Error(`approved install script did not settle on the prebuild:\n${out}`);
    if (existsSync(join(dir, 'node_modules', 'selectloop', 'build'))) throw new Error('built from source although the prebuild loads');
    return first;
  });

  check('(e) prebuild removed: import fails with the clear error', () => {
    const dir = freshProject('no-prebuild', tarball);
    rmSync(join(dir, 'node_modules', 'selectloop', 'prebuilds'), { recursive: true });
    writeFileSync(join(dir, 'imp.mjs'), `await import('selectloop');`);
    const { status, out } = run(process.execPath, ['imp.mjs'], { cwd: dir, allowFail: true });
    if (status === 0) throw new Error('import succeeded without any addon');
    for (const part of [`no native addon loads on ${process.platform}-${process.arch}`, 'npm install-scripts approve selectloop', 'npm rebuild selectloop', 'cmake-js compile']) {
      if (!out.includes(part)) throw new Error(`error lacks "${part}":\n${out}`);
    }
    if (/Segmentation|Bus error|core dumped/.test(out)) throw new Error(out);
    return out.split('\n').find((l) => l.includes('no native addon'))?.trim();
  });

  check('(e) scripts approved + npm_config_build_from_source=true: npm rebuild fetches cmake-js, compiles, and the echo works', () => {
    const dir = join(work, 'no-prebuild');
    npm(['install-scripts', 'approve', 'selectloop', ...quiet], { cwd: dir });
    const { out } = npm(['rebuild', 'selectloop', '--foreground-scripts'], { cwd: dir, env: { ...process.env, npm_config_build_from_source: 'true' } });
    if (!out.includes('fetching the source build')) throw new Error(`the build tools were not fetched on demand:\n${out}`);
    if (existsSync(join(dir, 'node_modules', 'cmake-js'))) throw new Error('cmake-js landed in the consumer\'s own node_modules');
    const built = join(dir, 'node_modules', 'selectloop', 'build', 'Release', 'selectloop.node');
    if (!existsSync(built)) throw new Error(`no build/Release/selectloop.node:\n${out}`);
    if (existsSync(join(dir, 'node_modules', 'selectloop', 'build', 'loadgen'))) throw new Error('the bench load generator was built');
    const echo = esmEcho(dir);
    if (!echo.includes(built)) throw new Error(`echo did not use the source build: ${echo}`);
    return echo;
  });

  check('(e) a second forced rebuild compiles offline (no download by cmake-js or npm)', () => {
    const dir = join(work, 'no-prebuild');
    rmSync(join(dir, 'node_modules', 'selectloop', 'build'), { recursive: true, force: true });
    // A dead proxy: any download attempted (headers, a toolchain, a package) would fail.
    const offline = { ...process.env, npm_config_build_from_source: 'true', HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', npm_config_proxy: 'http://127.0.0.1:9', npm_config_https_proxy: 'http://127.0.0.1:9' };
    const { out } = npm(['rebuild', 'selectloop', '--foreground-scripts'], { cwd: dir, env: offline });
    if (out.includes('fetching the source build')) throw new Error(`the tools were fetched again:\n${out}`);
    const built = join(dir, 'node_modules', 'selectloop', 'build', 'Release', 'selectloop.node');
    if (!existsSync(built)) throw new Error(`no build/Release/selectloop.node:\n${out}`);
    return esmEcho(dir);
  });

  check('(e) missing cmake with the build forced: one clear line naming it', () => {
    const dir = join(work, 'no-prebuild');
    const { status, out } = npm(['rebuild', 'selectloop', '--foreground-scripts'], { cwd: dir, env: { ...noCmake, npm_config_build_from_source: 'true' }, allowFail: true });
    const line = out.split('\n').find((l) => l.startsWith('selectloop: cannot build'));
    if (status === 0 || !line || !line.includes('cmake (>= 3.15) on PATH')) throw new Error(`status ${status}:\n${out}`);
    return line;
  });
} catch (err) {
  failures++;
  console.log(`FAIL consumer test setup\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures === 0 ? 'consumer test: all passed' : `consumer test: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
