// Runs before `npm pack`/`npm publish`: compiles the addon and the TypeScript afresh and puts this
// machine's addon where the loader finds it as a prebuild (prebuilds/<platform>-<arch>/
// selectloop.napi.<libc>.node, and its SHA-256 beside it, which the loader checks). npm then runs `prepare` (the same build, now a no-op for cmake).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.env.npm_execpath;
const run = (args) => execFileSync(npm ? process.execPath : 'npm', npm ? [npm, ...args] : args, { cwd: root, stdio: 'inherit' });

// Stale output (a deleted source's .js) must not reach the tarball.
rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
run(['run', 'build']);

const { prebuildPath, currentTarget, checksumPath, sha256 } = await import(pathToFileURL(join(root, 'dist/src/select/load-addon.js')).href);
const target = currentTarget();
const source = join(root, 'build', 'Release', 'selectloop.node');
const dest = prebuildPath(target, root);
mkdirSync(dirname(dest), { recursive: true });
copyFileSync(source, dest);
// Symbols are for debugging a local build; the shipped copy needs none of them.
if (spawnSync('strip', ['--strip-unneeded', dest]).status !== 0) console.warn('prepack: strip not available; prebuild left unstripped');

writeFileSync(checksumPath(dest), `${sha256(readFileSync(dest))}\n`);

const binding = createRequire(import.meta.url)(dest);
if (typeof binding.pollWait !== 'function') throw new Error(`prepack: ${dest} is not the selectloop addon`);
console.log(`prepack: prebuild ${relative(root, dest)} (${statSync(dest).size} bytes) for ${target.platform}-${target.arch} ${target.libc ?? ''}`);
