// selectloop's install script, for consumers who approved it (npm 11 skips it otherwise, and the
// package still works wherever its prebuild loads). It uses nothing but Node and, only when it
// has to compile, cmake-js + node-addon-api (optional peer dependencies, fetched on demand),
// cmake and a C++17 compiler:
//   - a build or prebuild loads: nothing to do;
//   - none loads, or npm_config_build_from_source=true: compile the addon with cmake-js;
//   - something needed for that is missing: one line naming it, exit 1.
// In the package's own checkout it does nothing: `prepare` runs `npm run build` there.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const loaderUrl = pathToFileURL(join(root, 'dist', 'src', 'select', 'load-addon.js')).href;

function isOwnCheckout() {
  const prefix = process.env.npm_config_local_prefix;
  if (!prefix) return false;
  try {
    return realpathSync(prefix) === realpathSync(root);
  } catch {
    return false;
  }
}

/** The addon's path if it loads (checked in a child, so even a crashing binary cannot stop us). */
function loadableAddon() {
  const probe = `const { loadAddon } = await import(${JSON.stringify(loaderUrl)}); console.log(loadAddon().path);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  return child.status === 0 ? child.stdout.trim() : undefined;
}

function onPath(command) {
  if (command.includes('/')) return isExecutable(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, command)));
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function resolvable(request) {
  try {
    return createRequire(join(root, 'package.json')).resolve(request);
  } catch {
    return undefined;
  }
}

function fail(line) {
  console.error(`selectloop: ${line}`);
  process.exit(1);
}

if (isOwnCheckout()) process.exit(0);

const forced = /^(true|1)$/i.test(process.env.npm_config_build_from_source ?? '');
if (!forced) {
  const found = loadableAddon();
  if (found) {
    console.log(`selectloop: using ${found}`);
    process.exit(0);
  }
}

// cmake-js and node-addon-api are optional peer dependencies, so that the many consumers a
// prebuild serves install 3 packages instead of 43. A source build that finds them missing
// fetches them from the npm registry into the package's own .build-tools/ (never the consumer's
// dependency tree), once; later rebuilds reuse them offline.
const toolsDir = join(root, '.build-tools');
const toolsRequire = createRequire(join(toolsDir, 'package.json'));

function buildTool(request) {
  try {
    return toolsRequire.resolve(request);
  } catch {
    return resolvable(request);
  }
}

function fetchBuildTools(names) {
  const peers = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).peerDependencies ?? {};
  const specs = names.map((name) => `${name}@${peers[name] ?? 'latest'}`);
  console.log(`selectloop: fetching the source build's tools from the npm registry: ${specs.join(' ')}`);
  mkdirSync(toolsDir, { recursive: true });
  writeFileSync(join(toolsDir, 'package.json'), '{ "private": true }\n');
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
  const flags = ['install', '--prefix', toolsDir, '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'];
  const r = spawnSync(command, [...args, ...flags, ...specs], { stdio: 'inherit' });
  return r.status === 0;
}

const cxx = process.env.CXX?.trim().split(/\s+/)[0];
const missing = [
  onPath('cmake') ? null : 'cmake (>= 3.15) on PATH',
  (cxx ? onPath(cxx) : ['c++', 'g++', 'clang++'].some(onPath)) ? null : `a C++17 compiler (${cxx ?? 'c++, g++ or clang++'}) on PATH`,
].filter(Boolean);
if (missing.length > 0) fail(`cannot build the native addon from source; missing: ${missing.join('; ')}.`);
const absentTools = ['cmake-js', 'node-addon-api'].filter((name) => !buildTool(`${name}/package.json`));
if (absentTools.length > 0 && !fetchBuildTools(absentTools)) {
  fail(`cannot build the native addon from source; could not install ${absentTools.join(' and ')} (npm install ${absentTools.join(' ')}).`);
}
const cmakeJs = buildTool('cmake-js/bin/cmake-js');
if (!cmakeJs) fail('cannot build the native addon from source; missing: the cmake-js package (npm install cmake-js).');

console.log(`selectloop: building the native addon from source with cmake-js${forced ? ' (npm_config_build_from_source)' : ''}`);
// CMakeLists.txt asks node for node-addon-api's include dir: NODE_PATH lets it find .build-tools/.
const nodePath = [join(toolsDir, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(delimiter);
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_PATH: nodePath } });
if (build.status !== 0) fail(`cmake-js compile failed (exit ${build.status ?? build.signal}); see its output above.`);
const built = loadableAddon();
if (!built) fail('the addon was built but does not load; run `node -e "import(\'selectloop\')"` to see why.');
console.log(`selectloop: built ${built}`);
