/**
 * The crash-trace collector: console reader, per-platform detectors, symbolizer.
 */
export * from './report';
export { ConsoleReader, type ConsoleLine, type ConsoleReaderOptions } from './consoleReader';
export { LineSplitter, DEFAULT_MAX_LINE_BYTES, type LineSink, type LineSplitterOptions, type SplitLine } from './lineSplitter';
export { cleanLine, stripControls, stripPrefixes } from './lineCleaner';
export { CrashCollector, analyzeLog, splitLines, type CrashCollectorOptions } from './collector';
export { CrashWatcher, watchConsole, type CrashWatcherOptions } from './crashWatcher';
export {
  Symbolizer,
  SymbolizerError,
  symbolizeReport,
  type BackendName,
  type SymbolizeRequest,
  type SymbolizedFrame,
  type SymbolizerOptions,
} from './symbolizer';
export type { Detector, DetectedCrash } from './detectors/types';
