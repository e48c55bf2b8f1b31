// Which selectors this platform offers, in preference order, and the default among them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as selectors from '../src/selectors/index.js';
import { native } from '../src/select/native.js';

test('availableSelectors(): most efficient first, SelectSelector always last; DefaultSelector is the first', () => {
  const names = selectors.availableSelectors();
  const expected = [
    native.backends.epoll && 'EpollSelector',
    native.backends.kqueue && 'KqueueSelector',
    native.backends.devpoll && 'DevpollSelector',
    native.backends.poll && 'PollSelector',
    'SelectSelector',
  ].filter(Boolean);
  assert.equal(names, expected);
  if (process.platform === 'linux') assert.equal(names, ['EpollSelector', 'PollSelector', 'SelectSelector']);
  const byName = selectors as unknown as Record<string, unknown>;
  assert.is(selectors.DefaultSelector, byName[names[0]!]);
  using s = new selectors.DefaultSelector();
  assert.is(s.constructor.name, names[0]);
});

test.run();
