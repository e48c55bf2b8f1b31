// Which selectors this platform offers, in preference order, and the default among them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as selectors from '../src/selectors/index.js';
import { native } from '../src/select/native.js';
import { pipe, closeFd } from '../src/select/fds.js';

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

test('getMap().forEach passes (key, fileobj, map) with thisArg; keys are frozen', () => {
  const [r, w] = pipe();
  try {
    using s = new selectors.DefaultSelector<string>();
    const key = s.register(r, selectors.EVENT_READ, 'data');
    assert.ok(Object.isFrozen(key));
    assert.equal({ ...key }, { fileobj: r, fd: r, events: selectors.EVENT_READ, data: 'data' });
    const map = s.getMap();
    const self = { seen: [] as unknown[] };
    map.forEach(function (this: typeof self, value, fileobj, m) {
      this.seen.push([value, fileobj, m]);
    }, self);
    assert.equal(self.seen, [[key, r, map]]);
    assert.is((self.seen[0] as unknown[])[2], map);
  } finally {
    closeFd(r);
    closeFd(w);
  }
});

test.run();
