// Every capability the transports layer adds to the Reactor, in one list. The loop layer must not
// import transports, so each capability is a class of methods in a file of its own (connections,
// datagrams, streams, sock_*, TLS, ...) whose methods are copied onto Reactor.prototype here;
// importing selectloop/transports (or selectloop) installs them all. A reader looking for
// `reactor.createServer` finds its class by the file name, and its signature and docs once, on
// that class (the `declare module` in each file merges the class into the Reactor's type).
import { Reactor } from '../loop/reactor.js';
import { ConnectionMethods } from './reactor-connections.js';
import { TlsMethods } from './reactor-tls.js';
import { DatagramMethods } from './reactor-datagrams.js';
import { SockMethods } from './reactor-sock.js';
import { ResolverMethods } from './reactor-getaddrinfo.js';
import { StreamMethods } from './reactor-streams.js';

type MethodsClass = abstract new (...args: never[]) => object;

/** Copies each class's own methods onto Reactor.prototype; two capabilities can never claim one name. */
export function installReactorMethods(...capabilities: MethodsClass[]): void {
  const target = Reactor.prototype as unknown as Record<string, unknown>;
  for (const capability of capabilities) {
    for (const name of Object.getOwnPropertyNames(capability.prototype)) {
      if (name === 'constructor') continue;
      const existing = Object.getOwnPropertyDescriptor(target, name);
      const method = Object.getOwnPropertyDescriptor(capability.prototype, name)!;
      // Installing the same capability twice (two copies of the module) is harmless; a clash is a bug.
      if (existing !== undefined && existing.value !== method.value) throw new Error(`Reactor.${name} is defined twice (${capability.name})`);
      Object.defineProperty(target, name, { ...method, enumerable: false });
    }
  }
}

installReactorMethods(ConnectionMethods, DatagramMethods, SockMethods, ResolverMethods, StreamMethods, TlsMethods);
