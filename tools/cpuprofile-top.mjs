#!/usr/bin/env node
// Where a Node process spent its CPU, from the .cpuprofile files `node --cpu-prof` writes at exit
// (load-tests/warm-runs.sh writes one per service with PROFILE_DIR set). Self time by function and
// by package (node_modules/<name>, node: internals, the project's own files), by owner (the
// nearest of the project's own frames on the stack, else [the library] whose callback it was:
// what to change to save it), and by function, largest first.
//   node tools/cpuprofile-top.mjs DIR_OR_FILE... [--match message] [--top 30]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const match = opt('match', '');
const top = Number(opt('top', 30));
const files = args.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);

function packageOf(url) {
  if (!url) return '(native or idle)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const own = /\/(services|libs)\/([^/]+)\//.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

/** The nearest of the project's own frames above a sample, or the outermost library's name. */
function ownerOf(id, byId, parent) {
  let library;
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const { functionName, url, lineNumber } = byId.get(cur).callFrame;
    if (/\/(services|libs)\/[^/]+\/dist\//.test(url) && !url.includes('node_modules/'))
      return `${functionName || '(anonymous)'} ${url.replace(/^.*\/(services|libs)\//, '$1/')}:${lineNumber + 1}`;
    if (url.includes('node_modules/')) library = packageOf(url);
  }
  return library && `[${library}]`;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  // timeDeltas[i] is the time before sample i: a sample lasts until the next one (as DevTools counts)
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  // the main script names the service: keep only the profiles asked for
  const main = profile.nodes.find((n) => /\/dist\/src\/main\.js$/.test(n.callFrame.url))?.callFrame.url ?? '';
  if (match && !main.includes(match) && !file.includes(match)) continue;
  const byFunction = new Map();
  const byPackage = new Map();
  const byOwner = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += us;
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const owner = ownerOf(id, byId, parent) ?? `[${pkg}]`;
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
  }
  const show = (title, map) => {
    console.log(`  ${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `  ${(us / 1e6).toFixed(2).padStart(7)} s ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`,
      );
  };
  console.log(`${file}  (${main || 'unknown main'}): ${(busy / 1e6).toFixed(1)} s busy`);
  show('by package', byPackage);
  show('by owner', byOwner);
  show('by function (self)', byFunction);
}
