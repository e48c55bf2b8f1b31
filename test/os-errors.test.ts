// The one place -errno becomes an exception (src/select/errors.ts): messages, codes, the
// would-block classes and the closed/unsupported errors, exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { OSError, BlockingIOError, check, osError, isWouldBlock, closedError, unsupportedPlatform, ERRNO, NEG_EAGAIN, NEG_EWOULDBLOCK, NEG_EINPROGRESS, NEG_EINTR } from '../src/select/errors.js';

const { ENOENT, EAGAIN, EINPROGRESS, EALREADY, EBADF } = constants.errno;

test('OSError: errno made negative; message "syscall CODE (description) detail"', () => {
  for (const errno of [ENOENT, -ENOENT]) {
    const e = new OSError(errno, 'open');
    assert.is(e.errno, -ENOENT);
    assert.is(e.code, 'ENOENT');
    assert.is(e.syscall, 'open');
    assert.is(e.message, 'open ENOENT (no such file or directory)');
  }
  assert.is(new OSError(-ENOENT, 'open', '/nowhere').message, 'open ENOENT (no such file or directory) /nowhere');
  assert.is(new OSError(-ENOENT, 'open', '').message, 'open ENOENT (no such file or directory)');
  assert.ok(Object.is(new OSError(0, 'x').errno, 0), 'errno 0 stays 0, not -0');
  assert.equal([NEG_EAGAIN, NEG_EWOULDBLOCK, NEG_EINPROGRESS, NEG_EINTR], [-EAGAIN, -ERRNO.EWOULDBLOCK, -EINPROGRESS, -ERRNO.EINTR]);
});

test('OSError: errnos libuv does not name fall back to os.constants.errno; unknown ones say so', () => {
  // One errno libuv's map lacks (ECHILD, EINPROGRESS, ... with Node 20 on Linux).
  const missing = Object.entries(constants.errno).find(([, value]) => !getSystemErrorMap().has(-value));
  if (missing) {
    const [name, value] = missing;
    const e = new OSError(-value, 'waitpid');
    assert.is(e.code, name);
    assert.is(e.message, `waitpid ${name} (${name})`);
  }
  const unknown = new OSError(-99999, 'ioctl');
  assert.is(unknown.errno, -99999);
  assert.is(unknown.code, 'Unknown system error -99999');
  assert.is(unknown.message, 'ioctl Unknown system error -99999 (unknown error)');
});

test('osError / check / isWouldBlock: which results block, which throw', () => {
  for (const errno of [EAGAIN, EINPROGRESS, EALREADY]) {
    const e = osError(-errno, 'connect');
    assert.is(e.constructor, BlockingIOError, `errno ${errno}`);
    assert.is(e.name, 'BlockingIOError');
  }
  const bad = osError(-EBADF, 'read', 'fd 5');
  assert.is(bad.constructor, OSError);
  assert.is(bad.message, 'read EBADF (bad file descriptor) fd 5');
  assert.is(check(0, 'read'), 0);
  assert.is(check(7, 'read'), 7);
  try {
    check(-EBADF, 'close', 'twice');
    assert.unreachable('check(-EBADF) returned');
  } catch (err) {
    assert.is((err as OSError).constructor, OSError);
    assert.is((err as OSError).message, 'close EBADF (bad file descriptor) twice');
  }
  assert.is(isWouldBlock(-EAGAIN), true);
  assert.is(isWouldBlock(-ERRNO.EWOULDBLOCK), true);
  assert.is(isWouldBlock(-EINPROGRESS), false);
  assert.is(isWouldBlock(EAGAIN), false);
  assert.is(isWouldBlock(0), false);
});

test('closedError / unsupportedPlatform: message and code', () => {
  const s = closedError('selector') as Error & { code: string };
  assert.is(s.message, 'I/O operation on a closed selector');
  assert.is(s.code, 'ERR_SELECTOR_CLOSED');
  const r = closedError('reactor') as Error & { code: string };
  assert.is(r.message, 'I/O operation on a closed reactor');
  assert.is(r.code, 'ERR_REACTOR_CLOSED');
  const u = unsupportedPlatform('kqueue') as Error & { code: string };
  assert.is(u.message, `kqueue is not available on this platform (${process.platform})`);
  assert.is(u.code, 'ERR_UNSUPPORTED_PLATFORM');
});

test.run();
