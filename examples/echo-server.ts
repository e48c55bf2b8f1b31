// The echo server from Python's `selectors` documentation, translated line by line:
// https://docs.python.org/3/library/selectors.html#examples
//
// One change: the docs' version calls conn.send(data) and "hopes it won't block"; a partial send
// there loses data. Here the unsent rest is kept and sent when the socket is writable (EVENT_WRITE
// via sel.modify), and reading from that client pauses meanwhile, so a client that does not read
// cannot make the server buffer without bound.
//
// One addition: Ctrl-C (SIGINT) or SIGTERM stops it cleanly, the Python way, `while running`
// then `finally: ... sel.close()`. A signal cannot interrupt a JS call the way KeyboardInterrupt
// interrupts sel.select(), so its handler writes to a pipe that select() watches (Python's
// signal.set_wakeup_fd pattern), and stop() ends the loop.
//
//   node dist/examples/echo-server.js [port] [--quiet]      (port also from $PORT; 0 picks one)
import { SignalPipe, toSignalNumber } from 'selectloop/select';
import { DefaultSelector, EVENT_READ, EVENT_WRITE, type SelectorKey } from 'selectloop/selectors';
import { Socket, BlockingIOError, OSError, SOL_SOCKET, SO_REUSEADDR } from 'selectloop/transports';

// Called with its key's fileobj, as in Python: a Socket, or for stop() the signal pipe's fd.
type Callback = (fileobj: any, mask: number) => void;

const quiet = process.argv.includes('--quiet');
const portArg = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? '1234';
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${portArg}`);
  process.exit(2);
}
const log = quiet ? () => {} : console.log;

const sel = new DefaultSelector<Callback>();
const unsent = new Map<Socket, Buffer>();

function accept(sock: Socket, mask: number): void {
  let conn: Socket;
  let addr;
  try {
    [conn, addr] = sock.accept(); // Should be ready
  } catch (err) {
    if (err instanceof BlockingIOError) return; // another process won the race for it
    throw err;
  }
  log('accepted', conn, 'from', addr);
  conn.setBlocking(false);
  sel.register(conn, EVENT_READ, read);
}

function read(conn: Socket, mask: number): void {
  let data: Buffer;
  try {
    data = conn.recv(65536); // Should be ready
  } catch (err) {
    if (err instanceof BlockingIOError) return;
    if (!(err instanceof OSError)) throw err;
    data = Buffer.alloc(0); // ECONNRESET: the client is gone, as at EOF
  }
  if (data.length > 0) {
    if (!quiet) log('echoing', JSON.stringify(data.toString('latin1')), 'to', conn);
    sendOrBuffer(conn, data);
  } else {
    close(conn);
  }
}

function sendOrBuffer(conn: Socket, data: Buffer): void {
  let sent = 0;
  try {
    sent = conn.send(data);
  } catch (err) {
    if (!(err instanceof BlockingIOError)) return close(conn); // EPIPE / ECONNRESET
  }
  if (sent < data.length) {
    unsent.set(conn, data.subarray(sent));
    sel.modify(conn, EVENT_WRITE, write);
  }
}

function write(conn: Socket, mask: number): void {
  const data = unsent.get(conn)!;
  unsent.delete(conn);
  sel.modify(conn, EVENT_READ, read);
  sendOrBuffer(conn, data);
}

function close(conn: Socket): void {
  log('closing', conn);
  unsent.delete(conn);
  sel.unregister(conn);
  conn.close();
}

const stopSignals = ['SIGINT', 'SIGTERM'];
let running = true;

// Printed even with --quiet, like the listening line: whoever started it sees why it ended.
function stop(fd: number, mask: number): void {
  signals.drain((signum) => {
    if (running) console.log(`shutting down (${stopSignals.find((name) => toSignalNumber(name) === signum)})`);
    running = false;
  });
}

const sock = new Socket();
sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
sock.bind(['localhost', port]);
sock.listen(100);
sock.setBlocking(false);
sel.register(sock, EVENT_READ, accept);
const signals = new SignalPipe();
for (const name of stopSignals) signals.install(toSignalNumber(name));
sel.register(signals.readFd, EVENT_READ, stop);
const [host, boundPort] = sock.getsockname() as [string, number];
console.log(`listening on ${host}:${boundPort}`);

try {
  while (running) {
    const events = sel.select();
    for (const [key, mask] of events as Array<[SelectorKey<Callback>, number]>) {
      const callback = key.data;
      callback(key.fileobj, mask);
    }
  }
} finally {
  // Like Python's, sel.close() leaves the registered files open: close the clients (a copy of the
  // map, since close() unregisters), the listener and the pipe (which restores the signals) first.
  for (const key of [...sel.getMap().values()]) {
    if (key.fileobj instanceof Socket && key.fileobj !== sock) close(key.fileobj);
  }
  sock.close();
  signals.close();
  sel.close();
}
