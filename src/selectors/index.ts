// selectloop/selectors: Python's selectors module (times in milliseconds).
import { native } from '../select/native.js';
import type { BaseSelector } from './base.js';
import { EpollSelector } from './epoll-selector.js';
import { KqueueSelector } from './kqueue-selector.js';
import { DevpollSelector } from './devpoll-selector.js';
import { PollSelector } from './poll-selector.js';
import { SelectSelector } from './select-selector.js';

export { EVENT_READ, EVENT_WRITE, type SelectorKey } from './key.js';
export { BaseSelector, type PreReadRequest } from './base.js';
export { EpollSelector, KqueueSelector, DevpollSelector, PollSelector, SelectSelector };
export { ValueError, KeyError, OSError, BlockingIOError } from '../select/errors.js';
export type { FileObject, HasFileno } from '../select/fileobj.js';

type SelectorClass = new <T = unknown>() => BaseSelector<T>;

const byPreference: Array<[string, SelectorClass, boolean]> = [
  ['EpollSelector', EpollSelector, native.backends.epoll],
  ['KqueueSelector', KqueueSelector, native.backends.kqueue],
  ['DevpollSelector', DevpollSelector, native.backends.devpoll],
  ['PollSelector', PollSelector, native.backends.poll],
  ['SelectSelector', SelectSelector, true],
];

/** Names of the selector classes usable on this platform, most efficient first. */
export function availableSelectors(): string[] {
  return byPreference.filter(([, , ok]) => ok).map(([name]) => name);
}

/** The most efficient selector here: epoll on Linux, kqueue on macOS/BSD. */
export const DefaultSelector: SelectorClass = byPreference.find(([, , ok]) => ok)![1];
export type DefaultSelector<T = unknown> = BaseSelector<T>;
