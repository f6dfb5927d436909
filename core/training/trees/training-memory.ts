/**
 * The memory a tree training works in: one shared WebAssembly memory holding the bin codes, the
 * gradients, the row indices and the histograms, so that the WebAssembly histogram kernels
 * (histogram-kernels.ts) and every training thread read and write the same arrays. JavaScript sees
 * them as ordinary typed arrays (views of the memory's SharedArrayBuffer).
 *
 * Allocation is a bump pointer kept in the memory itself (so any thread may allocate, with
 * `Atomics.add`); nothing is freed one by one: `reset` drops everything at once when a training is
 * done. Growing a shared memory keeps every existing view valid.
 */
import { HistogramKernels } from './histogram-kernels';
import { webAssembly, type WasmMemory } from './wasm-assembler';

const PAGE_BYTES = 65_536;
/** 4 GiB: every byte offset fits an unsigned 32-bit address. */
export const MAXIMUM_PAGES = 65_536;
const ALIGNMENT = 64;
/** The header: the allocation pointer and the epoch (bumped by `reset`), as uint32. */
const HEADER_BYTES = ALIGNMENT;
const TOP = 0;
const EPOCH = 1;

type TypedArrayConstructor<T> = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T;
/** The typed arrays a training keeps in its memory. */
export type MemoryArray = Float64Array | Float32Array | Int32Array | Uint8Array;

export class TrainingMemory {
  /** A new memory of `initialBytes` (it grows as needed). */
  static create(initialBytes = 16 * PAGE_BYTES): TrainingMemory {
    const memory = new (webAssembly().Memory)({ initial: Math.max(1, Math.ceil(initialBytes / PAGE_BYTES)), maximum: MAXIMUM_PAGES, shared: true });
    const training = new TrainingMemory(memory);
    Atomics.store(training.header(), TOP, HEADER_BYTES);
    return training;
  }

  /** Another thread's view of a memory made by `create` (it allocates from the same pointer). */
  static attach(memory: WasmMemory): TrainingMemory {
    return new TrainingMemory(memory);
  }

  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private kernelsOfThread: HistogramKernels | undefined;
  private headerView: Uint32Array | undefined;

  private constructor(readonly memory: WasmMemory) {}

  /** The kernels of this thread, over this memory. */
  get kernels(): HistogramKernels {
    this.kernelsOfThread ??= new HistogramKernels(this);
    return this.kernelsOfThread;
  }

  /** Bumped by every `reset`: scratch space allocated in an earlier epoch is gone. */
  get epoch(): number {
    return Atomics.load(this.header(), EPOCH);
  }

  /** The memory's buffer as it is now (after any growth). */
  buffer(): SharedArrayBuffer {
    const buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** Whether a typed array lives in this memory. */
  contains(array: ArrayBufferView): boolean {
    return array.buffer === this.memory.buffer || this.buffers.has(array.buffer);
  }

  /** A byte offset of `bytes` fresh bytes (64-byte aligned), growing the memory when needed. */
  allocateBytes(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 1) / ALIGNMENT) * ALIGNMENT;
    const offset = Atomics.add(this.header(), TOP, size);
    const end = offset + size;
    if (end > MAXIMUM_PAGES * PAGE_BYTES || end < offset) throw new RangeError(`a training needs more than ${MAXIMUM_PAGES * PAGE_BYTES} bytes of memory`);
    while (this.memory.buffer.byteLength < end) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE_BYTES));
    return offset;
  }

  float64(length: number): Float64Array {
    return this.allocate(Float64Array, length);
  }

  float32(length: number): Float32Array {
    return this.allocate(Float32Array, length);
  }

  int32(length: number): Int32Array {
    return this.allocate(Int32Array, length);
  }

  uint8(length: number): Uint8Array {
    return this.allocate(Uint8Array, length);
  }

  /** The array itself when it lives here, else a copy here. */
  copy<T extends MemoryArray>(array: T): T {
    if (this.contains(array)) return array;
    const copy = this.allocate(array.constructor as TypedArrayConstructor<T>, array.length);
    copy.set(array as never);
    return copy;
  }

  /** A view of `length` elements at `byteOffset`. */
  view<T>(type: TypedArrayConstructor<T>, byteOffset: number, length: number): T {
    return new type(this.buffer(), byteOffset, length);
  }

  /** Where a typed array of this memory starts; throws for any other array. */
  offsetOf(array: ArrayBufferView): number {
    if (!this.contains(array)) throw new TypeError('the array does not live in this training memory');
    return array.byteOffset;
  }

  /** Frees everything allocated so far (call it when no thread uses the arrays any more). */
  reset(): void {
    const header = this.header();
    Atomics.store(header, TOP, HEADER_BYTES);
    Atomics.add(header, EPOCH, 1);
  }

  private allocate<T extends MemoryArray>(type: TypedArrayConstructor<T>, length: number): T {
    const bytesPerElement = (type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const offset = this.allocateBytes(length * bytesPerElement);
    const array = new type(this.buffer(), offset, length);
    // memory reused after a reset holds old values
    array.fill(0 as never);
    return array;
  }

  private header(): Uint32Array {
    // any view of the header stays valid: growth never moves offset 0
    this.headerView ??= new Uint32Array(this.buffer(), 0, HEADER_BYTES / 4);
    return this.headerView;
  }
}
