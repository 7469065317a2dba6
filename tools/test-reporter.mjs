// node:test reporter that writes one JSON line per finished test for scripts/run-tests.mjs to add up.
// Suites are not counted themselves, except when they fail on their own (a failing before() hook),
// so a broken setup can never pass silently. A test file whose process exited mid-way, even with
// code 0, must not pass either: a test announced and never finished is a failure, and so is a
// file that reported no test at all (its process may have exited before its events were written).
export default async function* summaryReporter(source) {
  const running = new Map();
  const filesWithTests = new Set();
  const fileResults = [];
  const key = (d) => `${d.file}:${d.line}:${d.column}:${d.nesting}:${d.name}`;
  for await (const event of source) {
    const d = event.data;
    // the file's own pseudo-test reports only when the file itself failed or reported no test
    const isFile = d?.name === d?.file;
    if (event.type === 'test:enqueue' && !isFile) running.set(key(d), d);
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const failed = event.type === 'test:fail';
    if (isFile) {
      fileResults.push({ d, failed });
      continue;
    }
    running.delete(key(d));
    filesWithTests.add(d.file);
    const isSuite = d.details?.type === 'suite';
    if (isSuite && !(failed && d.details?.error?.failureType !== 'subtestsFailed')) continue;
    const status = failed ? 'fail' : d.skip !== undefined || d.todo !== undefined ? 'skip' : 'pass';
    yield line(status, d, failed ? errorText(d.details?.error) : undefined);
  }
  for (const d of running.values())
    yield line('fail', d, 'never finished: the test process exited before it (process.exit, a crash)');
  for (const { d, failed } of fileResults) {
    if (failed) yield line('fail', d, errorText(d.details?.error));
    else if (!filesWithTests.has(d.file))
      yield line('fail', d, 'reported no test: the file has none, or its process exited before reporting');
  }
}

function line(status, d, error) {
  return `${JSON.stringify({ status, name: d.name, file: d.file, ms: Math.round(d.details?.duration_ms ?? 0), error })}\n`;
}

function errorText(err) {
  if (!err) return 'failed';
  const cause = err.cause ?? err;
  return String(cause?.message ?? cause).slice(0, 2000);
}
