#!/usr/bin/env node
// The whole test suite, in phases:
//   checks       proto lint + generated-code drift, proto breaking changes, build, lint, format
//   unit         *.spec.ts beside the code (no infrastructure)
//   integration  services/*/test and libs/*/test against real Kafka, Cassandra and NATS
//   e2e          tests/e2e: all services as processes, driven through the public gateway
//   faults       tests/e2e/src/faults: kill -9 / SIGSTOP of processes and infrastructure under load,
//                alone (they stop and restart shared components)
// Infrastructure is resolved once (env → Testcontainers → deploy/local) and handed to every test
// process. Ends with one line "N passed, N failed, N skipped" and exits non-zero on any failure.
//
//   node scripts/run-tests.mjs [--phase checks,unit,integration,e2e] [--only <substring of a test file path>]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, '.run', 'test-results');
const bin = (name) => join(root, 'node_modules', '.bin', name);

const args = process.argv.slice(2);
const argValue = (flag) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const phases = (argValue('--phase') ?? 'checks,unit,integration,e2e,faults').split(',');
const only = argValue('--only');

const results = []; // { status, name, phase }
const started = Date.now();

function record(phase, status, name, error) {
  results.push({ phase, status, name, error });
}

/** Each command runs as its own process group, so an interrupt reaches the services tests started. */
const running = new Set();
let interrupted;

function runCommand(cmd, cmdArgs, { env = {}, quiet = false } = {}) {
  if (interrupted) return Promise.resolve({ code: 1, output: `not run: ${interrupted}` });
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      detached: true,
    });
    running.add(child);
    let output = '';
    if (quiet) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

// Ctrl-C or a SIGTERM: the running tests and the services they started stop, nothing new starts,
// and the run winds down as after a failure: it stops the infrastructure it started and prints the
// summary (its own start-up, if interrupted, stops what it had started).
// A second signal exits at once. SIGHUP too: the tests' process groups would outlive a closed terminal.
function stopRunning() {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) {
      console.log(`\n${signal} again: exiting without stopping the infrastructure`);
      process.exit(130);
    }
    interrupted = `interrupted (${signal})`;
    console.log(`\n${interrupted}: stopping the tests, then the infrastructure this run started`);
    record('runner', 'fail', interrupted);
    stopRunning();
  });
}

async function check(name, cmd, cmdArgs, env = {}) {
  if (interrupted) return false;
  const t0 = Date.now();
  const { code, output } = await runCommand(cmd, cmdArgs, { quiet: true, env });
  const ms = Date.now() - t0;
  if (code === 0) {
    console.log(`  ✔ ${name} (${ms} ms)`);
    record('checks', 'pass', name);
  } else {
    console.log(`  ✖ ${name} (${ms} ms)\n${indent(output.trim().split('\n').slice(-40).join('\n'))}`);
    record('checks', 'fail', name, output.slice(-2000));
  }
  return code === 0;
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

function findFiles(dir, test) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, test));
    else if (test(p)) out.push(p);
  }
  return out.sort();
}

function projectDirs() {
  return ['libs', 'services', 'tests']
    .flatMap((group) =>
      existsSync(join(root, group)) ? readdirSync(join(root, group)).map((n) => join(root, group, n)) : [],
    )
    .concat([join(root, 'load-tests')])
    .filter((d) => existsSync(join(d, 'package.json')));
}

/** The .ts source of a compiled test file (a source path is returned as it is). */
function sourceOf(file) {
  return file.replace(`${sep}dist${sep}`, sep).replace(/\.js$/, '.ts');
}

function testFiles(kind) {
  const files = projectDirs().flatMap((dir) => {
    if (kind === 'unit') return findFiles(join(dir, 'dist', 'src'), (p) => p.endsWith('.spec.js'));
    if (kind === 'integration')
      return dir.includes(`${join(root, 'tests')}`)
        ? []
        : findFiles(join(dir, 'dist', 'test'), (p) => p.endsWith('.test.js'));
    const isFault = (p) => p.includes(`${sep}faults${sep}`);
    return dir.includes(join(root, 'tests'))
      ? findFiles(join(dir, 'dist'), (p) => p.endsWith('.test.js') && (kind === 'faults') === isFault(p))
      : [];
  });
  // a compiled test whose source was deleted must not run (dist/ is not cleaned by tsc -b)
  const withSource = files.filter((f) => existsSync(sourceOf(f)));
  return only ? withSource.filter((f) => relative(root, f).includes(only)) : withSource;
}

async function runNodeTests(phase, files, { concurrency, timeoutMs, env = {} }) {
  if (interrupted) return;
  if (files.length === 0) {
    // a missing dist/test or a broken glob must not pass as "nothing to test"
    if (only) console.log(`  (no ${phase} test files match --only ${only})`);
    else record(phase, 'fail', `${phase}: no test files found (is the build output missing?)`);
    return;
  }
  mkdirSync(resultsDir, { recursive: true });
  const out = join(resultsDir, `${phase}.jsonl`);
  rmSync(out, { force: true });
  const { code } = await runCommand(
    process.execPath,
    [
      '--enable-source-maps',
      '--test',
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${timeoutMs}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'tools/test-reporter.mjs')}`,
      `--test-reporter-destination=${out}`,
      ...files,
    ],
    { env },
  );
  const reported = existsSync(out)
    ? readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
    : [];
  let failures = 0;
  for (const r of reported) {
    record(phase, r.status, `${relative(root, r.file ?? '')} › ${r.name}`, r.error);
    if (r.status === 'fail') failures++;
  }
  // a test process that died (out of memory, killed) loses the tests it never reported
  // results name the compiled file or, through source maps, its source: compare sources
  const seen = new Set(reported.map((r) => sourceOf(r.file ?? '')));
  const silent = files.filter((f) => !seen.has(sourceOf(f)));
  for (const f of silent) {
    record(phase, 'fail', `${relative(root, f)}: reported no test result (crashed or killed?)`);
    failures++;
  }
  if (code !== 0 && failures === 0)
    record(phase, 'fail', `${phase}: the test runner exited with code ${code} although no test failed`);
}

/** Tests that cannot run (their infrastructure is down) still show in the summary line. */
function skipFiles(phase, files, reason) {
  for (const f of files) record(phase, 'skip', `${relative(root, f)} (${reason})`);
}

const needsInfra = phases.some((p) => p === 'integration' || p === 'e2e' || p === 'faults');
/** Resolves to { testing, infra, ms } or { error }; started at most once, never rejects. */
let infraStarting;

function startInfra() {
  if (!needsInfra || infraStarting) return;
  const t0 = Date.now();
  infraStarting = import(join(root, 'libs/testing/dist/src/index.js'))
    .then(async (testing) => ({ testing, infra: await testing.resolveInfra(), ms: Date.now() - t0 }))
    .catch((error) => ({ error }));
}

function banner(text) {
  console.log(`\n━━ ${text} ━━`);
}

const WEB_BUILD = ['run', 'build', '--silent', '-w', 'apps/web'];

async function main() {
  let buildOk = true;
  if (phases.includes('checks')) {
    banner('checks');
    await check('proto: buf lint + generated code up to date', process.execPath, [
      'tools/proto.mjs',
      'check',
    ]);
    await check('proto: no breaking change against main', process.execPath, ['tools/proto.mjs', 'breaking']);
    buildOk = await check('build: TypeScript (strict) compiles', process.execPath, [bin('im-tsc'), '-b']);
    // the infrastructure needs the build (Cassandra's roles); it comes up while the checks run
    if (buildOk) startInfra();
    buildOk = (await check('build: web client (type-checked, bundled by Vite)', 'npm', WEB_BUILD)) && buildOk;
    // The Nx boundary rule reads the cached project graph and skips itself (a warning, which
    // --max-warnings 0 turns into a failure) when there is none: build a fresh graph first.
    await check('lint: eslint incl. module boundaries', 'bash', [
      '-c',
      `"${bin('nx')}" reset >/dev/null 2>&1; "${bin('nx')}" show projects >/dev/null && "${bin('eslint')}" --max-warnings 0 .`,
    ]);
    await check('format: prettier', bin('prettier'), ['--check', '.', '--log-level', 'warn']);
    await check(
      'helm: chart lints, renders valid Kubernetes 1.36 manifests, schema refuses bad values',
      'bash',
      ['tools/helm-check.sh'],
    );
    if (buildOk)
      await check('docs: configuration.md matches the config schemas', process.execPath, [
        'tools/config-docs.mjs',
        '--check',
      ]);
    if (buildOk)
      await check('nats: deploy/local users match the permission table', process.execPath, [
        'tools/nats-auth.mjs',
        '--check',
      ]);
    if (buildOk)
      await check(
        'grpc: the methods services call are exactly those GRPC_METHODS_OF allows',
        process.execPath,
        ['tools/grpc-methods-check.mjs'],
      );
  } else {
    const { code } = await runCommand(process.execPath, [bin('im-tsc'), '-b']);
    buildOk = code === 0;
    if (!buildOk) record('checks', 'fail', 'build: TypeScript (strict) compiles');
    else if ((await runCommand('npm', WEB_BUILD)).code !== 0) {
      buildOk = false;
      record('checks', 'fail', 'build: web client (type-checked, bundled by Vite)');
    }
  }
  if (!buildOk) {
    await (await infraStarting)?.infra?.stop();
    console.log('\nbuild failed: no tests can run');
    return finish();
  }

  if (phases.includes('unit')) {
    banner('unit tests');
    await runNodeTests('unit', testFiles('unit'), { concurrency: 2, timeoutMs: 30_000 });
  }

  let infra;
  let infraEnvVars = {};
  if (interrupted) {
    // an infrastructure already starting beside the checks is stopped again
    await (await infraStarting)?.infra?.stop();
    return finish();
  }
  if (needsInfra) {
    banner('infrastructure');
    const t0 = Date.now();
    startInfra();
    const started = await infraStarting;
    try {
      if (started.error) throw started.error;
      infra = started.infra;
      infraEnvVars = { ...started.testing.infraEnv(infra), IM_INFRA_SOURCE: infra.source };
      console.log(
        `  ${infra.source}: kafka ${infra.kafkaBrokers}, cassandra ${infra.cassandraContactPoints}, nats ${infra.natsUrl}, opensearch ${infra.opensearchUrl} (${started.ms} ms to start, ${Date.now() - t0} ms waited for)`,
      );
    } catch (err) {
      console.log(`  ✖ infrastructure did not come up: ${err.message}`);
      record('infrastructure', 'fail', 'infrastructure: Kafka, Cassandra and NATS reachable', err.message);
      if (phases.includes('integration'))
        skipFiles('integration', testFiles('integration'), 'not run: no infrastructure');
      if (phases.includes('e2e')) skipFiles('e2e', testFiles('e2e'), 'not run: no infrastructure');
      if (phases.includes('faults')) skipFiles('faults', testFiles('faults'), 'not run: no infrastructure');
      return finish();
    }
  }

  try {
    if (phases.includes('integration')) {
      banner('integration tests (real Kafka, Cassandra, NATS, OpenSearch)');
      await runNodeTests('integration', testFiles('integration'), {
        concurrency: 2,
        timeoutMs: 180_000,
        env: infraEnvVars,
      });
    }
    if (phases.includes('e2e')) {
      banner('end-to-end tests (services as processes, through the gateway)');
      // suites that start with { shared: true } run on one prefix, migrated once (ADR 0005)
      const testing = await import(join(root, 'libs/testing/dist/src/index.js'));
      const shared = testing.newRunPrefix('e2eshared');
      try {
        await runNodeTests('e2e', testFiles('e2e'), {
          concurrency: 1,
          timeoutMs: 600_000,
          env: { ...infraEnvVars, [testing.SHARED_PREFIX_VAR]: shared },
        });
      } finally {
        await Promise.all([
          testing.dropPrefixKeyspaces(infraEnvVars, shared).catch(() => undefined),
          testing.dropPrefixIndices(infraEnvVars, shared).catch(() => undefined),
        ]);
      }
    }
    if (phases.includes('faults')) {
      banner('fault tests (processes and infrastructure killed under load, one at a time)');
      await runNodeTests('faults', testFiles('faults'), {
        concurrency: 1,
        timeoutMs: 900_000,
        env: infraEnvVars,
      });
    }
  } finally {
    await infra?.stop();
  }
  return finish();
}

function finish() {
  const count = (s) => results.filter((r) => r.status === s).length;
  const failed = results.filter((r) => r.status === 'fail');
  if (failed.length > 0) {
    console.log('\nfailures:');
    for (const f of failed)
      console.log(
        `  ✖ [${f.phase}] ${f.name}${f.error ? `\n${indent(String(f.error).split('\n').slice(0, 6).join('\n'))}` : ''}`,
      );
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`\n(${seconds} s)`);
  console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  process.exit(failed.length > 0 || results.length === 0 ? 1 : 0);
}

main().catch(async (err) => {
  console.error(err);
  record('runner', 'fail', 'test runner crashed', err.message);
  stopRunning();
  // the infrastructure may have been starting beside the checks
  await (await infraStarting)?.infra?.stop();
  finish();
});
