import type { FileObject } from '../select/fileobj.js';
import type { SelectorKey } from './key.js';

/**
 * The live, read-only view returned by getMap(): keyed by registered file object; `get` and
 * `has` also accept the object's fd.
 */
export class SelectorMapping<T> implements ReadonlyMap<FileObject, SelectorKey<T>> {
  constructor(
    private readonly fdToKey: ReadonlyMap<number, SelectorKey<T>>,
    private readonly lookup: (fileobj: unknown) => number | undefined,
  ) {}

  get size(): number {
    return this.fdToKey.size;
  }

  get(fileobj: FileObject): SelectorKey<T> | undefined {
    const fd = this.lookup(fileobj);
    return fd === undefined ? undefined : this.fdToKey.get(fd);
  }

  has(fileobj: FileObject): boolean {
    return this.get(fileobj) !== undefined;
  }

  forEach(cb: (value: SelectorKey<T>, key: FileObject, map: ReadonlyMap<FileObject, SelectorKey<T>>) => void, thisArg?: unknown): void {
    for (const key of this.fdToKey.values()) cb.call(thisArg, key, key.fileobj, this);
  }

  *entries(): MapIterator<[FileObject, SelectorKey<T>]> {
    for (const key of this.fdToKey.values()) yield [key.fileobj, key];
  }

  *keys(): MapIterator<FileObject> {
    for (const key of this.fdToKey.values()) yield key.fileobj;
  }

  values(): MapIterator<SelectorKey<T>> {
    return this.fdToKey.values();
  }

  [Symbol.iterator](): MapIterator<[FileObject, SelectorKey<T>]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'SelectorMapping';
  }
}
