// A custom protocol handler: a tiny line-based key/value store over a Reactor.
//   node dist/examples/line-protocol.js [port] [--max-line N] [--quiet]   (port also from $PORT; 0 picks one)
//
// One command per line ("\n" or "\r\n"); every command gets exactly one reply line, in order:
//   SET <key> <value>   -> OK            (the value is the rest of the line and may contain spaces)
//   GET <key>           -> VALUE <value> | NIL
//   DEL <key>           -> DELETED       | NIL
//   QUIT                -> BYE, then the server closes the connection
//   anything else       -> ERR <reason>, and the connection stays usable
// Framing: bytes are buffered until a newline arrives, so a command may be split over any number
// of packets, and many commands may arrive in one packet (pipelining) — they are answered in order.
// A line longer than the maximum (default 1024 bytes) is answered with "ERR line too long" as soon
// as it exceeds the limit; the rest of it, up to its newline, is discarded without buffering.
// Try it: nc 127.0.0.1 PORT, then type SET a 1 / GET a / QUIT.
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { Reactor } from 'selectloop/loop';
import { type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

export const DEFAULT_MAX_LINE = 1024;
const NEWLINE = 0x0a;

export interface LineProtocolOptions {
  /** Shared by every connection of one server. */
  store?: Map<string, string>;
  /** Longest accepted line in bytes, not counting its line ending. */
  maxLine?: number;
  log?: (...args: unknown[]) => void;
}

export class LineProtocol implements Protocol {
  private transport: Transport | null = null;
  private pending: Buffer[] = []; // the partial line so far
  private pendingBytes = 0;
  private discarding = false; // inside an over-long line: drop bytes until the next newline
  private quitting = false;
  private readonly store: Map<string, string>;
  private readonly maxLine: number;
  private readonly log: (...args: unknown[]) => void;

  constructor(options: LineProtocolOptions = {}) {
    this.store = options.store ?? new Map();
    this.maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
    this.log = options.log ?? (() => {});
  }

  connectionMade(transport: Transport): void {
    this.transport = transport;
    this.log('connection from', transport.getExtraInfo('peername'));
  }

  dataReceived(data: Buffer): void {
    let start = 0;
    while (start < data.length && !this.quitting) {
      const nl = data.indexOf(NEWLINE, start);
      const end = nl === -1 ? data.length : nl;
      if (this.discarding) {
        if (nl !== -1) this.discarding = false;
      } else if (this.pendingBytes + (end - start) > this.maxLine + 1) {
        // +1 leaves room for the "\r" of a "\r\n" line ending.
        this.pending = [];
        this.pendingBytes = 0;
        this.reply(`ERR line too long (max ${this.maxLine} bytes)`);
        this.discarding = nl === -1;
      } else if (nl === -1) {
        // The data is ours to keep (Protocol contract), so keep a view, not a copy.
        this.pending.push(data.subarray(start));
        this.pendingBytes += data.length - start;
      } else {
        let line = data.subarray(start, nl);
        if (this.pendingBytes > 0) {
          this.pending.push(line);
          line = Buffer.concat(this.pending, this.pendingBytes + line.length);
          this.pending = [];
          this.pendingBytes = 0;
        }
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
        if (line.length > this.maxLine) this.reply(`ERR line too long (max ${this.maxLine} bytes)`);
        else this.command(line);
      }
      start = nl === -1 ? data.length : nl + 1;
    }
  }

  /** Runs one complete line; exactly one reply. */
  private command(raw: Buffer): void {
    const line = raw.toString('utf8');
    if (line.includes('\ufffd')) return this.reply('ERR invalid UTF-8');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) return this.reply('ERR control character in command');
    const m = /^\s*(\S+)(?:\s+(\S+))?(?:\s+(.*))?$/.exec(line);
    if (!m) return this.reply('ERR empty command');
    const verb = m[1]!.toUpperCase();
    const key = m[2];
    const rest = m[3];
    const arity = (n: number): boolean => {
      const got = (key === undefined ? 0 : 1) + (rest === undefined || rest === '' ? 0 : 1);
      if (got === n) return true;
      this.reply(`ERR wrong number of arguments for ${verb}`);
      return false;
    };
    switch (verb) {
      case 'SET':
        if (!arity(2)) return;
        this.store.set(key!, rest!);
        return this.reply('OK');
      case 'GET': {
        if (!arity(1)) return;
        const value = this.store.get(key!);
        return this.reply(value === undefined ? 'NIL' : `VALUE ${value}`);
      }
      case 'DEL':
        if (!arity(1)) return;
        return this.reply(this.store.delete(key!) ? 'DELETED' : 'NIL');
      case 'QUIT':
        if (!arity(0)) return;
        this.reply('BYE');
        this.quitting = true; // anything pipelined after QUIT is ignored
        this.transport?.close(); // flushes the replies first
        return;
      default:
        return this.reply(`ERR unknown command ${JSON.stringify(m[1]!.slice(0, 32))}`);
    }
  }

  private reply(text: string): void {
    if (this.transport && !this.transport.isClosing()) this.transport.write(text + '\n');
  }

  // A client that pipelines without reading must not grow our write buffer without bound.
  pauseWriting(): void {
    this.transport?.pauseReading();
  }

  resumeWriting(): void {
    this.transport?.resumeReading();
  }

  connectionLost(err: Error | null): void {
    this.log('connection closed', err ? `(${err.message})` : '');
    this.transport = null;
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const maxIdx = args.indexOf('--max-line');
  const maxLine = maxIdx >= 0 ? Number(args[maxIdx + 1]) : DEFAULT_MAX_LINE;
  const positional = args.filter((a, i) => !a.startsWith('--') && !(maxIdx >= 0 && i === maxIdx + 1));
  const port = Number(positional[0] ?? process.env.PORT ?? 6380);
  const log = quiet ? () => {} : console.log;

  const store = new Map<string, string>();
  const reactor = new Reactor();
  const server = reactor.createServer(() => new LineProtocol({ store, maxLine, log }), { host: '127.0.0.1', port });
  const [host, boundPort] = server.address() as [string, number];
  console.log(`listening on ${host}:${boundPort}`);

  for (const signal of ['SIGINT', 'SIGTERM']) {
    reactor.addSignalHandler(signal, () => {
      log(`${signal}: shutting down`);
      server.close();
      reactor.stop();
    });
  }
  reactor.runForever();
  reactor.close();
}
