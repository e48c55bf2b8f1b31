// Shared pieces of the TLS tests: a recording protocol, an echo protocol that honours flow
// control, bounded waits, and the check that nothing stays registered or open.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { Reactor } from '../../src/loop/index.js';
import '../../src/transports/index.js';
import type { Protocol, Transport } from '../../src/transports/index.js';
import { openFdCount } from './index.js';

/** Records every callback; `events` holds them in order with data calls folded into one 'data'. */
export class Recorder implements Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  bytes = 0;
  transport: Transport | null = null;
  lostError: Error | null | undefined = undefined;
  pauseWriting?(): void;
  resumeWriting?(): void;
  private wake: Array<() => void> = [];

  connectionMade(t: Transport): void {
    this.transport = t;
    this.push('made');
  }
  dataReceived(d: Buffer): void {
    if (this.events[this.events.length - 1] !== 'data') this.events.push('data');
    this.chunks.push(Buffer.from(d));
    this.bytes += d.length;
    this.notify();
  }
  eofReceived(): void {
    this.push('eof');
  }
  connectionLost(err: Error | null): void {
    this.lostError = err;
    this.push('lost');
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
  private push(e: string): void {
    this.events.push(e);
    this.notify();
  }
  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }
  /** Resolves once `pred` holds (checked after each callback); rejects after ms. */
  until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; events ${JSON.stringify(this.events)} bytes ${this.bytes}`)), ms);
      const check = (): void => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.wake.push(check);
      };
      check();
    });
  }
  lost(ms = 10_000): Promise<void> {
    return this.until(() => this.events.includes('lost'), 'connectionLost', ms);
  }
}

/** Echoes everything, pausing its reading while its writes are paused. */
export class FlowEcho implements Protocol {
  transport: Transport | null = null;
  lostError: Error | null | undefined = undefined;
  connectionMade(t: Transport): void {
    this.transport = t;
  }
  dataReceived(d: Buffer): void {
    this.transport!.write(d);
  }
  pauseWriting(): void {
    this.transport!.pauseReading();
  }
  resumeWriting(): void {
    this.transport!.resumeReading();
  }
  connectionLost(err: Error | null): void {
    this.lostError = err;
  }
}

/** Polls `pred` every few ms; rejects after ms. */
export async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function selectorMapSize(reactor: Reactor): number {
  const internals = reactor as unknown as { watchedFds: number; selector: { getMap(): Map<unknown, unknown> } };
  return internals.watchedFds + internals.selector.getMap().size;
}

/** Nothing registered with the reactor's selector and no fd beyond `fdsBefore` stays open. */
export async function assertNothingLeft(reactor: Reactor, fdsBefore: number): Promise<void> {
  await waitFor(() => selectorMapSize(reactor) === 0 && (fdsBefore < 0 || openFdCount() <= fdsBefore), 'every fd to be closed and unregistered', 5000).catch(() => {});
  assert.is(selectorMapSize(reactor), 0, 'fds still registered with the selector');
  if (fdsBefore >= 0) assert.is(openFdCount(), fdsBefore, 'fd leak');
}

/** Deterministic bytes (a counter pattern with a seed) so corruption and reordering show. */
export function patternBytes(n: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * One node:tls handshake and a thread-pool job, so fds Node opens lazily on first use (the
 * thread pool's wakeup fd, OpenSSL's) exist before a test counts fds.
 */
export async function warmUpNodeTls(key: Buffer, cert: Buffer): Promise<void> {
  const tls = await import('node:tls');
  const { pbkdf2 } = await import('node:crypto');
  await new Promise<void>((resolve) => pbkdf2('x', 'y', 1, 8, 'sha256', () => resolve()));
  const server = tls.createServer({ key, cert }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const c = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => c.end());
    c.on('error', () => resolve());
    c.on('close', () => resolve());
    c.resume();
  });
  await new Promise<void>((r) => server.close(() => r()));
}

export interface TlsSuiteContext {
  reactor: Reactor;
  fds: number;
}

/**
 * A uvu suite whose every test gets a fresh attached reactor and ends with nothing registered or
 * open (checked, then the reactor is closed); Node's TLS is warmed up once when certs exist.
 */
export function tlsSuite(name: string, certs: { serverKey: Buffer; serverCert: Buffer } | null) {
  const s = suite<TlsSuiteContext>(name);
  s.before(async () => {
    if (certs !== null) await warmUpNodeTls(certs.serverKey, certs.serverCert);
  });
  s.before.each((ctx) => {
    ctx.reactor = new Reactor();
    ctx.reactor.attach();
    ctx.fds = openFdCount();
  });
  s.after.each(async (ctx) => {
    try {
      await assertNothingLeft(ctx.reactor, ctx.fds);
    } catch (err) {
      console.error(err); // uvu does not report a failing hook by itself
      throw err;
    } finally {
      ctx.reactor.detach();
      ctx.reactor.close();
    }
  });
  return s;
}

/** The `code` of an error-like value, if any. */
export function code(err: unknown): string | undefined {
  return (err as { code?: string } | null | undefined)?.code;
}
