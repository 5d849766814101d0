/**
 * OCaml support for the debugger: names, values, exceptions and the native-code ABI.
 * Pure functions over symbol names and an abstract memory; nothing here knows gdb or DAP.
 */
export * from './names';
export * from './heap';
export * from './format';
export * from './values';
export * from './closures';
export * from './custom';
export * from './exceptions';
export * from './abi';
