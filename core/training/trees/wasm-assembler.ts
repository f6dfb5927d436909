/* eslint-disable no-bitwise -- LEB128 encoding is made of shifts and masks */
/**
 * Just enough of a WebAssembly assembler to write the histogram kernels (histogram-kernels.ts) in
 * TypeScript: functions of i32/f64 locals over one imported shared memory, with loads, stores,
 * integer and float arithmetic and structured loops. The bytes follow the WebAssembly 1.0 binary
 * format (with the threads proposal's shared memory, which Node supports); V8 validates them when
 * the module compiles, so a malformed kernel fails loudly at start, never silently.
 */

/** The parts of the WebAssembly JavaScript API used here (TypeScript's `es2023` lib does not declare them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  readonly Memory: new (descriptor: { readonly initial: number; readonly maximum: number; readonly shared: boolean }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>) => { readonly exports: Readonly<Record<string, unknown>> };
}

/** Node's WebAssembly global. */
export function webAssembly(): WasmApi {
  return (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;
}

export type ValueType = 'i32' | 'f64';
const VALUE_TYPE_CODES: Readonly<Record<ValueType, number>> = { i32: 0x7f, f64: 0x7c };

/** Unsigned LEB128. */
export function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 (32-bit). */
export function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = Buffer.from(text, 'utf8');
  return [...unsignedLeb(bytes.length), ...bytes];
}

function section(id: number, body: readonly number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

/** A local (or parameter) of a function being written. */
export interface Local {
  readonly index: number;
  readonly type: ValueType;
}

/**
 * Writes one function's body. Instructions push onto the operand stack in the order they are
 * called, as in the text format; `loop` and `block` take the body as a callback.
 */
export class FunctionWriter {
  readonly parameters: Local[] = [];
  private readonly locals: Local[] = [];
  private readonly code: number[] = [];

  /** @param result the type of the value the body leaves on the stack, if any */
  constructor(
    parameterTypes: readonly ValueType[],
    readonly result?: ValueType,
  ) {
    parameterTypes.forEach((type, index) => this.parameters.push({ index, type }));
  }

  /** A new local of `type`. */
  local(type: ValueType): Local {
    const local = { index: this.parameters.length + this.locals.length, type };
    this.locals.push(local);
    return local;
  }

  get(local: Local): this {
    return this.emit(0x20, ...unsignedLeb(local.index));
  }

  set(local: Local): this {
    return this.emit(0x21, ...unsignedLeb(local.index));
  }

  tee(local: Local): this {
    return this.emit(0x22, ...unsignedLeb(local.index));
  }

  i32(value: number): this {
    return this.emit(0x41, ...signedLeb(value));
  }

  add(): this {
    return this.emit(0x6a);
  }

  subtract(): this {
    return this.emit(0x6b);
  }

  multiply(): this {
    return this.emit(0x6c);
  }

  shiftLeft(bits: number): this {
    return this.i32(bits).emit(0x74);
  }

  shiftRightUnsigned(bits: number): this {
    return this.i32(bits).emit(0x76);
  }

  lessThanUnsigned(): this {
    return this.emit(0x49);
  }

  greaterThanUnsigned(): this {
    return this.emit(0x4b);
  }

  lessOrEqualUnsigned(): this {
    return this.emit(0x4d);
  }

  greaterOrEqualUnsigned(): this {
    return this.emit(0x4f);
  }

  /** i32 at [address + offset] (address from the stack). */
  loadInt32(offset = 0): this {
    return this.emit(0x28, 2, ...unsignedLeb(offset));
  }

  /** Stores the i32 on top of the stack at [address + offset] (address below it). */
  storeInt32(offset = 0): this {
    return this.emit(0x36, 2, ...unsignedLeb(offset));
  }

  /** memory.copy(destination, source, bytes), all three from the stack in that order. */
  copyMemory(): this {
    return this.emit(0xfc, ...unsignedLeb(10), 0, 0);
  }

  /** A byte at [address + offset], zero-extended. */
  loadUint8(offset = 0): this {
    return this.emit(0x2d, 0, ...unsignedLeb(offset));
  }

  /** f32 at [address + offset], promoted to f64. */
  loadFloat32AsFloat64(offset = 0): this {
    return this.emit(0x2a, 2, ...unsignedLeb(offset), 0xbb);
  }

  loadFloat64(offset = 0): this {
    return this.emit(0x2b, 3, ...unsignedLeb(offset));
  }

  /** Stores the f64 on top of the stack at [address + offset] (address below it). */
  storeFloat64(offset = 0): this {
    return this.emit(0x39, 3, ...unsignedLeb(offset));
  }

  addFloat64(): this {
    return this.emit(0xa0);
  }

  /** `memory[address + offset] += value` for f64 (address in a local). */
  addToFloat64(address: Local, offset: number, value: Local): this {
    return this.get(address).get(address).loadFloat64(offset).get(value).addFloat64().storeFloat64(offset);
  }

  /** for (counter = from; counter < to; counter += step) body — `from`/`to` are locals; nothing runs when from ≥ to. */
  forRange(counter: Local, from: Local, to: Local, step: number, body: () => void): this {
    this.get(from).set(counter);
    this.emit(0x02, 0x40); // block
    this.get(counter).get(to).greaterOrEqualUnsigned().emit(0x0d, 0); // br_if out
    this.emit(0x03, 0x40); // loop
    body();
    this.get(counter).i32(step).add().tee(counter).get(to).lessThanUnsigned().emit(0x0d, 0); // br_if loop
    this.emit(0x0b, 0x0b); // end loop, end block
    return this;
  }

  /** while (condition) body — `condition` pushes an i32. */
  whileTrue(condition: () => void, body: () => void): this {
    this.emit(0x02, 0x40, 0x03, 0x40); // block loop
    condition();
    this.emit(0x45, 0x0d, 1); // eqz, br_if out
    body();
    this.emit(0x0c, 0, 0x0b, 0x0b); // br loop, end loop, end block
    return this;
  }

  /** The function's code entry (locals, then the body). */
  encode(): number[] {
    const groups: number[][] = this.locals.map((local) => [1, VALUE_TYPE_CODES[local.type]]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
}

/** A module importing `env.memory` (shared, up to `maximumPages` of 64 KiB) and exporting its functions. */
export function assembleModule(functions: ReadonlyArray<{ readonly name: string; readonly writer: FunctionWriter }>, maximumPages: number): Uint8Array {
  const types = functions.map(({ writer }) => [
    0x60,
    ...vector(writer.parameters.map((parameter) => [VALUE_TYPE_CODES[parameter.type]])),
    ...(writer.result === undefined ? [0x00] : [0x01, VALUE_TYPE_CODES[writer.result]]),
  ]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    // import env.memory: memory with flags 0x03 (shared, has maximum), minimum 1 page
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x03, ...unsignedLeb(1), ...unsignedLeb(maximumPages)]])),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(7, vector(functions.map((entry, index) => [...name(entry.name), 0x00, ...unsignedLeb(index)]))),
    ...section(10, vector(functions.map(({ writer }) => writer.encode()))),
  ];
  return Uint8Array.from(bytes);
}
