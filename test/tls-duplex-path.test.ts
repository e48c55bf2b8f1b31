// The TLS tests again with ciphertext carried only by the Duplex under Node's TLSSocket: the path
// TlsTransport falls back to when it has no wire for the engine and Node's JSStream handle is not
// where it expects it.
import './helpers/tls-duplex-path.js'; // first: switches the path before the tests are defined
import './tls.test.js';
import './tls-lessons.test.js';
