// The addon's datagram functions (cpp/datagrams.cc), typed. Kept beside the datagram code rather
// than in src/select/native.ts: only the datagram transport and Socket's struct options use them.
import { native, type NativeAddress } from '../select/native.js';

export interface DatagramNative {
  /** Receives up to maxCount datagrams (slot i at offset + i * slotSize); -errno if none. */
  recvDatagrams(fd: number, buf: Uint8Array, offset: number, slotSize: number, maxCount: number, results: Int32Array, names: Uint8Array): number;
  /** Sends datas[start..start+count) (each to addrs[i], or the connected peer when null); how many went, or -errno. */
  sendDatagrams(fd: number, datas: Uint8Array[], addrs: Array<Uint8Array | null>, start: number, count: number): number;
  datagramAddress(names: Uint8Array, slot: number, length: number): NativeAddress;
  datagramSockaddr(names: Uint8Array, slot: number, length: number): Buffer;
  setsockoptBytes(fd: number, level: number, option: number, value: Uint8Array): number;
  datagramConstants: Record<string, number>;
}

export const datagramNative = native as unknown as DatagramNative;
