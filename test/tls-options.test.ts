// makeTlsConfig (tls-options.ts) directly, no connection: every check of the `tls` options with
// its error type and message, the timeouts' defaults and bounds, what a server needs, and the name
// a client verifies and sends as SNI. No certificates needed: a given secureContext is used as is,
// and key/cert strings that are not PEM pass our check and fail in node:tls.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import type * as NodeTls from 'node:tls';
import { Reactor } from '../src/loop/index.js';
import { ValueError } from '../src/select/errors.js';
import {
  checkCanCarryTls, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, makeTlsConfig, nodeTls, tlsNeedsAttach,
} from '../src/transports/tls-options.js';

const test = suite('tls options');
const tls = createRequire(import.meta.url)('node:tls') as typeof NodeTls;
const context = tls.createSecureContext();

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return assert.unreachable('should have thrown') as never;
}

test('nodeTls() is node:tls, loaded once', () => {
  assert.is(nodeTls(), tls);
  assert.is(nodeTls(), nodeTls());
});

test('the timeouts default to asyncio\'s: 60 s handshake, 30 s shutdown', () => {
  assert.is(DEFAULT_HANDSHAKE_TIMEOUT_MS, 60_000);
  assert.is(DEFAULT_SHUTDOWN_TIMEOUT_MS, 30_000);
  const config = makeTlsConfig({}, false, 'localhost');
  assert.is(config.handshakeTimeout, 60_000);
  assert.is(config.shutdownTimeout, 30_000);
  const given = makeTlsConfig({ handshakeTimeout: 150, shutdownTimeout: 0.5 }, false);
  assert.is(given.handshakeTimeout, 150);
  assert.is(given.shutdownTimeout, 0.5);
});

test('a timeout must be a positive finite number: ValueError naming it and the value', () => {
  for (const name of ['handshakeTimeout', 'shutdownTimeout'] as const) {
    for (const bad of [0, -1, NaN, Infinity, -Infinity, '100', null]) {
      const err = thrown(() => makeTlsConfig({ [name]: bad }, false));
      assert.instance(err, ValueError, `${name} ${String(bad)}`);
      assert.is(err.message, `tls.${name} must be a positive number of ms, got ${String(bad)}`);
    }
  }
});

test('the options must be an object (not null, an array or a primitive)', () => {
  for (const bad of [null, undefined, 5, 'x', [], true]) {
    const err = thrown(() => makeTlsConfig(bad, false));
    assert.instance(err, TypeError, String(bad));
    assert.is(err.message, 'tls options must be an object');
  }
});

test('servername must be a string, ALPNProtocols an array, rejectUnauthorized and requestCert booleans', () => {
  const cases: Array<[object, string]> = [
    [{ servername: 5 }, 'tls.servername must be a string'],
    [{ servername: null }, 'tls.servername must be a string'],
    [{ ALPNProtocols: 'h2' }, 'tls.ALPNProtocols must be an array'],
    [{ rejectUnauthorized: 'yes' }, 'tls.rejectUnauthorized must be a boolean'],
    [{ rejectUnauthorized: 0 }, 'tls.rejectUnauthorized must be a boolean'],
    [{ requestCert: 1 }, 'tls.requestCert must be a boolean'],
  ];
  for (const [options, message] of cases) {
    const err = thrown(() => makeTlsConfig(options, false, 'localhost'));
    assert.instance(err, TypeError, message);
    assert.is(err.message, message);
  }
  const ok = makeTlsConfig({ servername: 'example.test', ALPNProtocols: ['h2'], rejectUnauthorized: false, requestCert: true }, false);
  assert.is(ok.servername, 'example.test');
  assert.equal(ok.options.ALPNProtocols, ['h2']);
});

test('a server needs key and cert, or pfx, a secureContext or an SNICallback', () => {
  const need = 'tls options of a server need key and cert (or pfx, secureContext or SNICallback)';
  for (const options of [{}, { key: 'k' }, { cert: 'c' }]) {
    const err = thrown(() => makeTlsConfig(options, true));
    assert.instance(err, ValueError, JSON.stringify(options));
    assert.is(err.message, need);
  }
  // These pass the check: what is left for node:tls to refuse is not ours to word.
  for (const options of [{ key: 'k', cert: 'c' }, { pfx: 'not pfx' }]) {
    const err = thrown(() => makeTlsConfig(options, true));
    assert.not.instance(err, ValueError, JSON.stringify(options));
  }
  const sni = makeTlsConfig({ SNICallback: (_name: string, cb: (err: Error | null) => void) => cb(null) }, true);
  assert.is(sni.isServer, true);
  const given = makeTlsConfig({ secureContext: context }, true);
  assert.is(given.secureContext, context, 'used as it is');
});

test('the secureContext: the given one, else one made from the options', () => {
  const options = { secureContext: context, ciphers: 'not a cipher list' }; // ignored with a context
  const config = makeTlsConfig(options, false, 'localhost');
  assert.is(config.secureContext, context);
  assert.is(config.options, options);
  assert.is(config.isServer, false);
  const made = makeTlsConfig({}, false, 'localhost');
  assert.ok(made.secureContext !== context);
  assert.ok(typeof (made.secureContext as unknown as { context?: unknown }).context === 'object', 'a SecureContext of node:tls');
  assert.throws(() => makeTlsConfig({ ciphers: 'not a cipher list' }, false), (e: unknown) => !(e instanceof ValueError));
});

test('client names: verified host and SNI from servername, else the host (SNI never an IP address), else localhost', () => {
  const rows: Array<[string | undefined, string | undefined, string, string | undefined]> = [
    // servername, host -> verifyHost, SNI
    ['name.test', 'host.test', 'name.test', 'name.test'],
    ['name.test', '127.0.0.1', 'name.test', 'name.test'],
    [undefined, 'host.test', 'host.test', 'host.test'],
    [undefined, '127.0.0.1', '127.0.0.1', undefined],
    [undefined, '::1', '::1', undefined],
    [undefined, undefined, 'localhost', undefined],
  ];
  for (const [servername, host, verifyHost, sni] of rows) {
    const config = makeTlsConfig(servername === undefined ? {} : { servername }, false, host);
    assert.is(config.verifyHost, verifyHost, `${servername} ${host}`);
    assert.is(config.servername, sni, `${servername} ${host}`);
  }
  const server = makeTlsConfig({ secureContext: context, servername: 'name.test' }, true, 'host.test');
  assert.is(server.verifyHost, undefined, 'a server verifies no host name');
  assert.is(server.servername, undefined, 'nor sends SNI');
});

test('TLS needs an attached reactor: ERR_TLS_NEEDS_ATTACH names the call', async () => {
  const err = tlsNeedsAttach('startTls()') as Error & { code?: string };
  assert.is(err.code, 'ERR_TLS_NEEDS_ATTACH');
  assert.ok(err.message.startsWith('startTls(): TLS runs on Node\'s own event loop'), err.message);
  assert.match(err.message, /call reactor\.attach\(\) first \(or use Reactor\.run\(main\)\)/);
  const reactor = new Reactor();
  try {
    const e = thrown(() => checkCanCarryTls(reactor, 'here')) as Error & { code?: string };
    assert.is(e.code, 'ERR_TLS_NEEDS_ATTACH');
    assert.ok(e.message.startsWith('here: '));
  } finally {
    reactor.close();
  }
  await Reactor.run((attached) => checkCanCarryTls(attached, 'attached')); // no throw
});

test.run();
