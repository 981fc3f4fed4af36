// Instantiating this project's hand-written WebAssembly (ghash.wat, sha256.wat).

// The project compiles without the DOM library, whose types declare WebAssembly's.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: unknown };
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmApi };

const modules = new Map<string, object>();

/** A new instance (its own memory) of the module whose bytes are `base64`; compiled once per thread. */
export function instantiate<T>(base64: string): T {
  let module = modules.get(base64);
  if (!module) {
    module = new wasmApi.Module(Buffer.from(base64, 'base64'));
    modules.set(base64, module);
  }
  return new wasmApi.Instance(module).exports as T;
}
