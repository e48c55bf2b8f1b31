// Imported before the TLS test files by tls-engine-path.test.ts.
import { TlsTransport } from '../../src/transports/index.js';

TlsTransport.useWire = false;
