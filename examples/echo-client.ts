// A client for the echo servers: sends lines, prints each line as it is echoed back, and exits
// once every line sent has come back. (It counts reply lines, so it also talks to any server that
// answers each line with one line, such as examples/line-protocol.)
//   node dist/examples/echo-client.js [--host H] [--port P] [line ...]   (port also from $PORT)
// With no lines on the command line it sends standard input, line by line, as it arrives:
//   printf 'one\ntwo\n' | node dist/examples/echo-client.js --port 1234
import { readFileSync } from 'node:fs';
import { Reactor } from 'selectloop/loop';
import { setBlocking, type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const host = option('--host') ?? '127.0.0.1';
const port = Number(option('--port') ?? process.env.PORT ?? 1234);
const lines = args; // what is left: the lines to send

const reactor = new Reactor();
let exitCode = 0;

class EchoClient implements Protocol {
  transport: Transport | null = null;
  private sent = 0; // lines
  private received = 0; // lines
  private inputDone = false;
  private partial = '';
  private backlog: string[] = []; // lines queued before the connection is up

  connectionMade(transport: Transport): void {
    this.transport = transport;
    for (const line of this.backlog) this.transport.write(line);
    this.backlog = [];
    this.maybeFinish();
  }

  /** Queues one line (a newline is added). */
  send(line: string): void {
    const data = line + '\n';
    this.sent++;
    if (this.transport) this.transport.write(data);
    else this.backlog.push(data);
  }

  /** No more lines will be sent. */
  end(): void {
    this.inputDone = true;
    this.maybeFinish();
  }

  dataReceived(data: Buffer): void {
    const text = this.partial + data.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop()!;
    this.received += parts.length;
    for (const line of parts) console.log(line);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.transport && this.inputDone && this.received >= this.sent) this.transport.close();
  }

  connectionLost(err: Error | null): void {
    if (this.partial) {
      console.log(this.partial);
      this.received++;
    }
    if (err) {
      console.error(`echo-client: ${err.message}`);
      exitCode = 1;
    } else if (this.received < this.sent) {
      console.error(`echo-client: the server closed after echoing ${this.received} of ${this.sent} lines`);
      exitCode = 1;
    }
    closeStdin();
    reactor.stop();
  }
}

const client = new EchoClient();
reactor.createConnection(() => client, { host, port });

/** Reads fd 0 as a pipe transport and forwards complete lines. */
class StdinLines implements Protocol {
  private partial = '';
  dataReceived(data: Buffer): void {
    const parts = (this.partial + data.toString('utf8')).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) client.send(line);
  }
  eofReceived(): void {
    if (this.partial) client.send(this.partial);
    this.partial = '';
    closeStdin();
    client.end();
  }
}

/** fd 0's file description is shared with the parent (a shell, a terminal): leave it blocking again. */
function closeStdin(): void {
  if (stdin === null || stdin.isClosing()) return;
  try {
    setBlocking(0, true);
  } catch {
    // nothing to restore
  }
  stdin.close(); // also closes fd 0
}

let stdin: Transport | null = null;
if (lines.length > 0) {
  for (const line of lines) client.send(line);
  client.end();
} else {
  try {
    [stdin] = reactor.connectReadPipe(() => new StdinLines(), 0);
  } catch (err) {
    // A regular file (node echo-client.js < file) cannot be polled: read it at once instead.
    if ((err as Error).name !== 'ValueError') throw err;
    const input = readFileSync(0);
    const reader = new StdinLines();
    reader.dataReceived(input);
    reader.eofReceived();
  }
}

reactor.runForever();
reactor.close();
process.exitCode = exitCode;
