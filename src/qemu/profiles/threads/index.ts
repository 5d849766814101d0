/**
 * Guest threads: scheduler layouts (one per platform that has a scheduler) and the reader that lists
 * a guest's threads through gdb.
 */
export * from './types';
export { rumprunScheduler } from './rumprun';
export { unikraftScheduler } from './unikraft';
export { GuestThreadReader, SchedulerNotFound, openGuestThreads, type GuestThreadSnapshot, type ReaderOptions } from './reader';
export { measuredLayout, probeExpression, walkExpression, walkOnExpression, wordsExpression, STACK_WORDS, type Field, type MeasuredLayout, type WalkPlan } from './expression';
export { decodeThread, fieldString, fieldValue, savedContext, stateOf, type ThreadWords } from './decode';
export { parsePythonOutput, pythonCall, pythonDefinition, PY_FUNCTION } from './python';
export { GdbValueError, parseAddress, parseCString, parseNumberTree, parseNumbers, parseRows } from './values';
