// Debug mode (asyncio's debug, libuv's metrics): what the Reactor and the transports report only
// when asked to, so that with debug off they pay nothing but a flag test.

/** SELECTLOOP_DEBUG=1 (any value but '' and '0') turns debug mode on for every new Reactor. */
export function debugFromEnvironment(): boolean {
  const value = process.env.SELECTLOOP_DEBUG;
  return value !== undefined && value !== '' && value !== '0';
}

/** What reactor.stats() returns. */
export interface ReactorStats {
  /** Loop iterations (one wait each). */
  iterations: number;
  /** Callbacks run: ready callbacks, fd callbacks and timers. */
  callbacksRun: number;
  /** Ready (fd, events) pairs the selector returned. */
  fdEvents: number;
  /** Timers taken off the heap to run. */
  timersFired: number;
  /** Time spent waiting in the selector; measured in debug mode only (0 otherwise). */
  idleMs: number;
  /** Time spent running callbacks; measured in debug mode only (0 otherwise). */
  busyMs: number;
}

export interface UnclosedResource {
  /** What was not closed, e.g. `<Transport socket fd=7>`. */
  readonly description: string;
  /** Called when it is collected unclosed. */
  readonly report: (description: string) => void;
}

// One registry for the process, made on first use: nothing exists while debug mode is off.
let unclosed: FinalizationRegistry<UnclosedResource> | null = null;

/**
 * Reports `target` (through `report`) if it is garbage-collected before untrackUnclosed(target)
 * is called — a transport or Socket nobody closed, whose fd leaked. Python's ResourceWarning.
 * The report comes from a task of Node's loop: not while a blocking runForever() holds the thread.
 */
export function trackUnclosed(target: object, resource: UnclosedResource): void {
  unclosed ??= new FinalizationRegistry((r) => r.report(r.description));
  unclosed.register(target, resource, target);
}

/** `target` was closed: no report when it is collected. */
export function untrackUnclosed(target: object): void {
  unclosed?.unregister(target);
}

// Sockets have no reactor: they are tracked while SELECTLOOP_DEBUG is set or a reactor is in
// debug mode (a count, kept by the reactors).
let reactorsInDebug = 0;

/** @internal A reactor turned debug mode on (+1) or off / closed (-1). */
export function countDebugReactor(delta: 1 | -1): void {
  reactorsInDebug += delta;
}

/** Whether objects without a reactor (Sockets) report being collected unclosed. */
export function socketDebugEnabled(): boolean {
  return reactorsInDebug > 0 || socketDebugFromEnvironment;
}
// Read once: a Socket is made per accepted connection, and process.env is a getenv() call.
const socketDebugFromEnvironment = debugFromEnvironment();

/** The default report for an unclosed resource: Node's warning channel, as a ResourceWarning. */
export function warnUnclosed(description: string): void {
  process.emitWarning(`unclosed ${description}`, 'ResourceWarning');
}
