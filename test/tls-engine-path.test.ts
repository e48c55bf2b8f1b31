// The TLS tests again with ciphertext going both ways through Node's JSStream engine handle: the
// path TlsTransport takes when the engine cannot have a wire of its own (no socket fd to
// duplicate, or startTls on a transport that still holds bytes to send).
import './helpers/tls-engine-path.js'; // first: switches the path before the tests are defined
import './tls.test.js';
import './tls-lessons.test.js';
