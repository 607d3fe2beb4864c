import t from 'tap';
import { Inbox } from '../../../node/index.ts';

t.test('keeps the newest capacity items in order and counts drops', async (t) => {
  const inbox = new Inbox<number>(3);
  for (let i = 1; i <= 7; i++) inbox.push(i);
  t.equal(inbox.size, 3);
  t.equal(inbox.dropped, 4);
  t.equal(inbox.pushed, 7);
  t.same(inbox.drain(10), [5, 6, 7]);
  t.equal(inbox.shift(), undefined);
  inbox.push(8);
  inbox.push(9);
  t.same(inbox.drain(1), [8], 'drain takes at most max');
  t.same(inbox.drain(5), [9]);
});

t.test('next() waits for a push and returns null on abort', async (t) => {
  const inbox = new Inbox<string>(2);
  const controller = new AbortController();
  const waiting = inbox.next(controller.signal);
  inbox.push('hello');
  t.equal(await waiting, 'hello', 'handed straight to the waiter');
  t.equal(inbox.size, 0);
  inbox.push('queued');
  t.equal(await inbox.next(controller.signal), 'queued');
  const aborted = inbox.next(controller.signal);
  controller.abort();
  t.equal(await aborted, null);
  t.equal(await inbox.next(controller.signal), null, 'an aborted signal returns at once');
});

t.test('rejects a capacity that is not a positive integer', async (t) => {
  t.throws(() => new Inbox(0));
  t.throws(() => new Inbox(1.5));
});
