// Write-side flow control shared by the stream and datagram transports: the water marks as
// asyncio's _set_write_buffer_limits computes them, and the pause/resume calls into the protocol
// (a protocol that throws from them goes to the exception handler, never up into the write path).
import { ValueError } from '../select/errors.js';
import type { Reactor } from '../loop/reactor.js';

export const DEFAULT_HIGH = 64 * 1024;
export const DEFAULT_LOW = 16 * 1024;

/** Validated water marks: high defaults to 4 × low, low to high / 4 (asyncio's rule). */
export function waterMarks(high: number | undefined, low: number | undefined): { high: number; low: number } {
  for (const [name, v] of [['high', high], ['low', low]] as const) {
    // Stryker disable next-line ConditionalExpression: the typeof test only makes the intent plain; Number.isInteger is false for every non-number
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw new ValueError(`${name} must be a non-negative integer, got ${String(v)}`);
  }
  const h = high ?? (low !== undefined ? 4 * low : DEFAULT_HIGH);
  // Stryker disable next-line ConditionalExpression: with neither given, h / 4 is DEFAULT_HIGH / 4 = DEFAULT_LOW anyway
  const l = low ?? (high !== undefined ? Math.floor(h / 4) : DEFAULT_LOW);
  if (h < l) throw new ValueError(`high (${h}) must be >= low (${l})`);
  return { high: h, low: l };
}

/** Calls protocol.pauseWriting() or resumeWriting(), if it has one; a throw is reported, not raised. */
export function tellProtocol(
  reactor: Reactor,
  transport: object,
  protocol: { pauseWriting?(): void; resumeWriting?(): void },
  call: 'pauseWriting' | 'resumeWriting',
): void {
  try {
    protocol[call]?.();
  } catch (err) {
    reactor.callExceptionHandler({ message: `protocol.${call}() failed`, exception: err, transport, protocol });
  }
}
