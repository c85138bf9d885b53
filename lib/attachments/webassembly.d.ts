/**
 * The part of the WebAssembly API that seven-zip.ts uses. TypeScript declares it in its DOM
 * and web worker libraries only, and @types/node 20 not at all; Node has it as a global.
 */
declare namespace WebAssembly {
  interface Module {
    readonly __brand: 'WebAssembly.Module';
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  type Imports = Record<string, Record<string, unknown>>;
  function compile(bytes: Uint8Array): Promise<Module>;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
