// node:test reporter that writes one JSON line per finished test for scripts/run-tests.mjs to add up.
// Suites are not counted themselves, except when they fail on their own (a failing before() hook),
// so a broken setup can never pass silently.
export default async function* summaryReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    const isSuite = d.details?.type === 'suite';
    const failed = event.type === 'test:fail';
    if (isSuite && !(failed && d.details?.error?.failureType !== 'subtestsFailed')) continue;
    const status = failed ? 'fail' : d.skip !== undefined || d.todo !== undefined ? 'skip' : 'pass';
    const error = failed ? errorText(d.details?.error) : undefined;
    yield `${JSON.stringify({ status, name: d.name, file: d.file, ms: Math.round(d.details?.duration_ms ?? 0), error })}\n`;
  }
}

function errorText(err) {
  if (!err) return 'failed';
  const cause = err.cause ?? err;
  return String(cause?.message ?? cause).slice(0, 2000);
}
