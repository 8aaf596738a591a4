// The memory the WebAssembly kernels work in: one shared WebAssembly.Memory, handed out as
// Float32Array views by a bump allocator whose pointer lives in the memory itself (so every
// thread that shares the memory allocates from the same pointer with Atomics). Nothing is ever
// freed: rnnlab allocates its buffers once per model and shape, so a training run's footprint
// is fixed; a program that builds many models keeps their memory. Growth never moves or
// detaches earlier views (shared memory), so a view stays valid for the life of the program.

import { ResourceError } from "../../errors.js";

const PAGE = 65536;
/** Byte 0..3: the bump pointer, an unsigned 32-bit address. Allocations are 64-byte aligned (a cache line). */
const ALIGN = 64;
/** The most a WebAssembly (wasm32) memory can hold: 65,536 pages of 64 KiB. */
export const ARENA_LIMIT = 2 ** 32;

/** Bytes as "1.5 GiB" (binary units, as memory is counted). */
export function fmtBytes(n: number): string {
  const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });
  return n >= 2 ** 30 ? `${fmt(n / 2 ** 30)} GiB` : n >= 2 ** 20 ? `${fmt(n / 2 ** 20)} MiB` : `${Math.ceil(n / 2 ** 10)} KiB`;
}

/**
 * The WebAssembly kernels' memory, handed out as float32 and int32 buffers (a bump allocator over
 * one shared WebAssembly.Memory that worker threads share too); `holds(x)` says whether a buffer
 * lives there, which is what the kernels take their fast path on.
 */
export class Arena {
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** The buffer holds() found last. */
  private lastHeld: ArrayBufferLike | null = null;
  private header: Uint32Array;

  /**
   * `memory` must be shared; pass one from another thread to allocate from the same pointer.
   * Allocations start at `start` (the end of the module's static data), rounded up.
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    start = ALIGN,
  ) {
    this.header = new Uint32Array(memory.buffer, 0, 1);
    this.buffers.add(memory.buffer);
    Atomics.compareExchange(this.header, 0, 0, Math.max(ALIGN, Math.ceil(start / ALIGN) * ALIGN));
  }

  /** A new shared memory of `initialPages` pages, able to grow to 4 GiB. */
  static memory(initialPages = 256): WebAssembly.Memory {
    return new WebAssembly.Memory({ initial: initialPages, maximum: 65536, shared: true });
  }

  /**
   * Reserves `bytes` (rounded up to the alignment) and returns their address. A request beyond
   * the 4 GiB a WebAssembly memory can hold is a ResourceError, and reserves nothing.
   */
  reserve(bytes: number): number {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    let at: number;
    for (;;) {
      at = Atomics.load(this.header, 0);
      if (!(Number.isFinite(size) && size >= 0 && at + size <= ARENA_LIMIT)) {
        throw new ResourceError(
          `out of memory: ${fmtBytes(bytes)} more do not fit in rnnlab's WebAssembly memory (${fmtBytes(at)} of ${fmtBytes(ARENA_LIMIT)} in use); use a smaller model, batch or window`,
        );
      }
      // compare-and-swap, so that a failed request leaves the pointer as it was
      if (Atomics.compareExchange(this.header, 0, at, at + size) === at) break;
    }
    const end = at + size;
    try {
      while (this.memory.buffer.byteLength < end) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
    } catch (e) {
      throw new ResourceError(
        `out of memory: the WebAssembly memory cannot grow to ${fmtBytes(end)} (${(e as Error).message}); use a smaller model, batch or window`,
      );
    }
    return at;
  }

  /** A zeroed Float32Array of n elements in the shared memory. */
  f32(n: number): Float32Array {
    const at = this.reserve(Math.max(1, n) * 4);
    const buf = this.memory.buffer;
    this.buffers.add(buf);
    return new Float32Array(buf, at, n);
  }

  /** A zeroed Int32Array of n elements in the shared memory. */
  i32(n: number): Int32Array {
    const at = this.reserve(Math.max(1, n) * 4);
    const buf = this.memory.buffer;
    this.buffers.add(buf);
    return new Int32Array(buf, at, n);
  }

  /** Whether a view lies in this memory (so its byteOffset is an address the kernels can use). */
  holds(x: ArrayBufferView): boolean {
    const b = x.buffer;
    if (b === this.lastHeld) return true; // every kernel call asks, mostly of the same buffer
    if (!this.buffers.has(b)) return false;
    this.lastHeld = b;
    return true;
  }

  /** Bytes handed out so far. */
  get used(): number {
    return Atomics.load(this.header, 0);
  }

  /** Bytes that may still be handed out. */
  get free(): number {
    return ARENA_LIMIT - this.used;
  }
}
