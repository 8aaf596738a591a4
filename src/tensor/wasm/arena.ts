// The memory the WebAssembly kernels work in: one shared WebAssembly.Memory, handed out as
// Float32Array views by a bump allocator whose pointer lives in the memory itself (so every
// thread that shares the memory allocates from the same pointer with Atomics). Nothing is ever
// freed: rnnlab allocates its buffers once per model and shape, so a training run's footprint
// is fixed; a program that builds many models keeps their memory. Growth never moves or
// detaches earlier views (shared memory), so a view stays valid for the life of the program.

const PAGE = 65536;
/** Byte 0..3: the bump pointer. Allocations are 64-byte aligned (a cache line). */
const ALIGN = 64;

export class Arena {
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private header: Int32Array;

  /**
   * `memory` must be shared; pass one from another thread to allocate from the same pointer.
   * Allocations start at `start` (the end of the module's static data), rounded up.
   */
  constructor(readonly memory: WebAssembly.Memory, start = ALIGN) {
    this.header = new Int32Array(memory.buffer, 0, 1);
    this.buffers.add(memory.buffer);
    Atomics.compareExchange(this.header, 0, 0, Math.max(ALIGN, Math.ceil(start / ALIGN) * ALIGN));
  }

  /** A new shared memory of `initialPages` pages, able to grow to 4 GiB. */
  static memory(initialPages = 256): WebAssembly.Memory {
    return new WebAssembly.Memory({ initial: initialPages, maximum: 65536, shared: true });
  }

  /** Reserves `bytes` (rounded up to the alignment) and returns their address. */
  reserve(bytes: number): number {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    const at = Atomics.add(this.header, 0, size);
    const end = at + size;
    if (end > 2 ** 32) throw new RangeError("rnnlab: the WebAssembly memory is full (4 GiB)");
    while (this.memory.buffer.byteLength < end) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
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
    return this.buffers.has(x.buffer);
  }

  /** Bytes handed out so far. */
  get used(): number {
    return Atomics.load(this.header, 0);
  }
}
