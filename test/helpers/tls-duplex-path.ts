// Imported before the TLS test files by tls-duplex-path.test.ts.
import { TlsTransport } from '../../src/transports/index.js';

TlsTransport.useWire = false;
TlsTransport.useEngineHandle = false;
