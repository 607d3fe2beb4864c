/**
 * tap removes a test's `t.testdir()` before running the teardowns registered after it, so a node
 * still running then writes into a directory being deleted (ENOTEMPTY) and outlives its test.
 * `stopBeforeDirRemoval(t)` registers one teardown BEFORE the directory exists and returns a way to
 * add to it: processes are killed and nodes stopped first (last added, first run), then the
 * directory goes.
 */
export function stopBeforeDirRemoval(t: { teardown: (fn: () => unknown) => void }): (fn: () => unknown) => void {
  const fns: Array<() => unknown> = [];
  t.teardown(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => void fns.push(fn);
}
