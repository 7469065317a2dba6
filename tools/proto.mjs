#!/usr/bin/env node
// Contract tooling around buf (from its npm package) and ts-proto.
//   node tools/proto.mjs generate   regenerate libs/proto/src/gen from proto/
//   node tools/proto.mjs check      buf lint + fail when the checked-in generated code is stale
//   node tools/proto.mjs breaking   buf breaking against the main branch (skipped when main has no proto/ yet)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buf = join(root, 'node_modules/.bin/buf');
const genDir = join(root, 'libs/proto/src/gen');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

// The public package's descriptors (with comments) feed the OpenAPI/AsyncAPI documents.
function writeDescriptors(outDir) {
  run(buf, [
    'build',
    '--as-file-descriptor-set',
    '--path',
    'proto/im/client/v1',
    '-o',
    join(outDir, 'client-v1.descriptors.json'),
  ]);
}

function generate(outDir) {
  if (outDir === genDir) {
    run(buf, ['generate']);
    writeDescriptors(outDir);
    return;
  }
  // buf.gen.yaml writes to libs/proto/src/gen; generate into a scratch copy of the template instead.
  const template = readFileSync(join(root, 'buf.gen.yaml'), 'utf8').replace(
    'out: libs/proto/src/gen',
    `out: ${relative(root, outDir)}`,
  );
  const tmpl = join(outDir, '..', 'buf.gen.yaml');
  writeFileSync(tmpl, template);
  run(buf, ['generate', '--template', tmpl]);
  writeDescriptors(outDir);
}

function check() {
  run(buf, ['lint']);
  const scratch = mkdtempSync(join(tmpdir(), 'im-proto-'));
  // buf's out must be inside the workspace-relative path it is given, so scratch lives under .cache
  // (which a machine whose Node needed no bootstrap has not made yet)
  mkdirSync(join(root, '.cache'), { recursive: true });
  const out = mkdtempSync(join(root, '.cache', 'proto-check-'));
  try {
    generate(join(out, 'gen'));
    const want = listFiles(join(out, 'gen')).map((f) => relative(join(out, 'gen'), f));
    const have = listFiles(genDir).map((f) => relative(genDir, f));
    const stale = [];
    for (const f of new Set([...want, ...have])) {
      const a = want.includes(f) ? readFileSync(join(out, 'gen', f), 'utf8') : null;
      const b = have.includes(f) ? readFileSync(join(genDir, f), 'utf8') : null;
      if (a !== b) stale.push(f);
    }
    if (stale.length > 0) {
      console.error(`generated code is stale (${stale.length} file(s)): ${stale.join(', ')}`);
      console.error('run `npm run proto:generate` and commit the result');
      process.exit(1);
    }
    console.log(`proto: lint ok, generated code up to date (${have.length} files)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

function currentBranch() {
  try {
    return execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: root }).toString().trim();
  } catch {
    return '';
  }
}

function revisionExists(rev) {
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      cwd: root,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * A deliberate break (like buf's "buf skip breaking" label): the newest commit carries the trailer
 * `Proto-Breaking-Change: docs/adr/NNNN-....md`, naming an ADR that exists and says why. Only
 * HEAD's own message counts, and only when comparing against HEAD~1, so it never waves through
 * a later change.
 */
function acceptedBreak(against) {
  if (against !== 'HEAD~1') return undefined;
  const message = execFileSync('git', ['log', '-1', '--format=%B', 'HEAD'], { cwd: root }).toString();
  const adr = /^Proto-Breaking-Change:\s*(docs\/adr\/\S+\.md)\s*$/m.exec(message)?.[1];
  if (!adr) return undefined;
  if (!existsSync(join(root, adr))) {
    console.error(`proto: the Proto-Breaking-Change trailer names ${adr}, which does not exist`);
    process.exit(1);
  }
  return adr;
}

function breaking() {
  // On a branch: against main. On main itself: against the previous commit, so the change that
  // just landed is the one checked.
  const against = process.env.PROTO_BREAKING_AGAINST ?? (currentBranch() === 'main' ? 'HEAD~1' : 'main');
  if (!revisionExists(against)) {
    // Only the very first commit has nothing to compare against; any other missing ref (a shallow
    // clone, a typo in PROTO_BREAKING_AGAINST, no main branch) must not pass silently.
    if (against === 'HEAD~1' && !revisionExists('HEAD^')) {
      console.log('proto: first commit of the repository, nothing to compare against');
      return;
    }
    console.error(`proto: cannot resolve ${against} to compare against (shallow clone? fetch it first)`);
    process.exit(1);
  }
  // git fails here only on a broken repository: let that throw
  const hasProto =
    execFileSync('git', ['ls-tree', '-d', against, 'proto'], { cwd: root }).toString().trim() !== '';
  if (!hasProto) {
    console.log(`proto: no proto/ on ${against} yet, nothing to compare against`);
    return;
  }
  const accepted = acceptedBreak(against);
  if (accepted) {
    console.log(`proto: breaking changes against ${against} accepted by ${accepted} (commit trailer)`);
    return;
  }
  // A throwaway clone at the ref keeps buf away from the working tree's uncommitted state.
  const dir = mkdtempSync(join(tmpdir(), 'im-proto-base-'));
  try {
    execFileSync('git', ['worktree', 'add', '--detach', dir, against], { cwd: root, stdio: 'ignore' });
    cpSync(join(root, 'buf.yaml'), join(dir, 'buf.yaml.current'));
    run(buf, ['breaking', '--against', dir]);
    console.log(`proto: no breaking change against ${against}`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

const cmd = process.argv[2];
if (cmd === 'generate') generate(genDir);
else if (cmd === 'check') check();
else if (cmd === 'breaking') breaking();
else {
  console.error('usage: node tools/proto.mjs generate|check|breaking');
  process.exit(2);
}
