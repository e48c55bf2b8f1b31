import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DefaultSelector, EVENT_READ, EVENT_WRITE, availableSelectors } from '../src/selectors/index.js';
import { pipe, write, closeFd } from '../src/select/fds.js';

test('a pipe becomes readable after a write', () => {
  const [r, w] = pipe();
  const sel = new DefaultSelector<string>();
  try {
    sel.register(r, EVENT_READ, 'reader');
    sel.register(w, EVENT_WRITE, 'writer');
    assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['writer', EVENT_WRITE]]);
    write(w, 'x');
    const ready = sel.select(0).map(([k, ev]) => [k.data, ev]).sort();
    assert.equal(ready, [['reader', EVENT_READ], ['writer', EVENT_WRITE]]);
    assert.ok(availableSelectors().includes('PollSelector'));
  } finally {
    sel.close();
    closeFd(r);
    closeFd(w);
  }
});

test.run();
