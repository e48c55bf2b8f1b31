// Pipe transports to a child process: `sort` gets its stdin and stdout from two pipe() pairs;
// we write lines through connectWritePipe, writeEof(), read the sorted result through
// connectReadPipe, print it and exit.
//   node dist/examples/pipe-child.js [line ...]        (default: a few fruit)
//   node dist/examples/pipe-child.js --generate 100000 (many lines: exercises the write buffer)
import { spawn } from 'node:child_process';
import { Reactor } from 'selectloop/loop';
import { pipe, closeFd, type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const args = process.argv.slice(2);
const gen = args.indexOf('--generate');
let lines: string[];
if (gen >= 0) {
  const n = Number(args[gen + 1]);
  lines = Array.from({ length: n }, (_, i) => `line ${String((i * 7919) % n).padStart(8, '0')}`);
} else {
  lines = args.length > 0 ? args : ['pear', 'apple', 'fig', 'banana', 'cherry'];
}

const [childIn, toChild] = pipe(); // we write toChild, sort reads childIn
const [fromChild, childOut] = pipe(); // sort writes childOut, we read fromChild
// The child gets the pipe ends as fds 0 and 1 (dup2 clears close-on-exec for them only).
const child = spawn('sort', [], { stdio: [childIn, childOut, 'inherit'], env: { ...process.env, LC_ALL: 'C' } });
// Our copies of the child's ends must go, or we would never see EOF on fromChild.
closeFd(childIn);
closeFd(childOut);

const reactor = new Reactor();
let open = 2;
let failed = false;
const done = (err: Error | null): void => {
  if (err) {
    console.error(`pipe-child: ${err.message}`);
    failed = true;
  }
  if (--open === 0) reactor.stop();
};

class Writer implements Protocol {
  connectionMade(t: Transport): void {
    // Far more than a pipe holds: the rest queues in the transport and leaves as sort reads.
    t.write(lines.join('\n') + '\n');
    t.writeEof(); // a write pipe's EOF: closed once the buffer has drained
  }
  connectionLost(err: Error | null): void {
    done(err);
  }
}

class Reader implements Protocol {
  private chunks: Buffer[] = [];
  dataReceived(data: Buffer): void {
    this.chunks.push(data);
  }
  connectionLost(err: Error | null): void {
    process.stdout.write(Buffer.concat(this.chunks));
    done(err);
  }
}

reactor.connectWritePipe(() => new Writer(), toChild);
reactor.connectReadPipe(() => new Reader(), fromChild);
reactor.runForever();
reactor.close();

// Node's loop reaps the child once we return to it.
child.on('exit', (code, signal) => {
  if (code !== 0) console.error(`pipe-child: sort exited with ${signal ?? code}`);
  process.exitCode = failed || code !== 0 ? 1 : 0;
});
child.on('error', (err) => {
  console.error(`pipe-child: ${err.message}`);
  process.exitCode = 1;
});
