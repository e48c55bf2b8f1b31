import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reactor } from '../src/loop/index.js';
import { installReactorMethods } from '../src/transports/reactor-capabilities.js';
import { ConnectionMethods } from '../src/transports/reactor-connections.js';
import '../src/transports/index.js';

test('importing selectloop/transports installs each capability on Reactor.prototype', () => {
  for (const name of ['createServer', 'createConnection', 'connectReadPipe', 'connectWritePipe']) {
    assert.is((Reactor.prototype as unknown as Record<string, unknown>)[name], (ConnectionMethods.prototype as unknown as Record<string, unknown>)[name], name);
    assert.is(Object.getOwnPropertyDescriptor(Reactor.prototype, name)!.enumerable, false, `${name} is not enumerable`);
  }
});

test('installing the same capability twice is harmless', () => {
  installReactorMethods(ConnectionMethods);
  const reactor = new Reactor();
  try {
    assert.type(reactor.createServer, 'function');
  } finally {
    reactor.close();
  }
});

test('two capabilities claiming one method name are refused', () => {
  class Clash {
    createServer(): void {}
  }
  assert.throws(() => installReactorMethods(Clash), /Reactor\.createServer is defined twice \(Clash\)/);
});

test.run();
