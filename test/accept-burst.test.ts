// A burst of connections is accepted in one readiness event (bpo-27906), not one per iteration:
// from the mutation pass (issue: hardening). Counted in iterations, not time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reactor, Socket } from '../src/index.js';
import { openFdCount } from './helpers/index.js';

test('ten connections already queued are all accepted by one runOnce(0)', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  let made = 0;
  const server = reactor.createServer(() => {
    made++;
    return {};
  }, { host: '127.0.0.1', port: 0, backlog: 64 });
  const port = (server.address() as [string, number])[1];
  const clients: Socket[] = [];
  try {
    // A blocking connect returns once the kernel has queued the connection on the listener.
    for (let i = 0; i < 10; i++) {
      const s = new Socket();
      s.connect(['127.0.0.1', port]);
      clients.push(s);
    }
    reactor.runOnce(0);
    assert.is(made, 10, 'protocols made in the first iteration');
  } finally {
    for (const s of clients) s.close();
    server.close();
    for (let i = 0; i < 5; i++) reactor.runOnce(0);
    reactor.close();
  }
  assert.is(openFdCount(), before, 'fd leak');
});

test.run();
