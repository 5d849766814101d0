/**
 * What the adapter tells VS Code it can do, in its answer to `initialize`. Step Back and Reverse
 * Continue are announced later, by a capabilities event, once a launch is recorded.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXCEPTION_FILTERS } from './crashPaths';

const BREAKPOINT_MODES: DebugProtocol.BreakpointMode[] = [
  { mode: 'software', label: 'Software', description: 'A breakpoint kept by the GDB stub; any number of them.', appliesTo: ['source', 'function', 'instruction'] },
  {
    mode: 'hardware',
    label: 'Hardware',
    description: 'Uses one of the CPU\'s four debug registers; works on code that is not in memory yet (early boot).',
    appliesTo: ['source', 'function', 'instruction'],
  },
];

export const CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsFunctionBreakpoints: true,
  supportsConditionalBreakpoints: true,
  supportsEvaluateForHovers: true,
  supportsSetVariable: true,
  supportsSetExpression: false,
  supportsTerminateRequest: true,
  supportsDelayedStackTraceLoading: true,
  supportTerminateDebuggee: true,
  supportsSteppingGranularity: true,
  supportsExceptionInfoRequest: true,
  exceptionBreakpointFilters: EXCEPTION_FILTERS,
  supportsHitConditionalBreakpoints: true,
  supportsLogPoints: true,
  supportsInstructionBreakpoints: true,
  supportsDataBreakpoints: true,
  supportsDataBreakpointBytes: true,
  breakpointModes: BREAKPOINT_MODES,
  supportsReadMemoryRequest: true,
  supportsWriteMemoryRequest: true,
  supportsDisassembleRequest: true,
  supportsCancelRequest: true,
  supportsCompletionsRequest: true,
  completionTriggerCharacters: [' ', '.', '$'],
  supportsValueFormattingOptions: true,
  supportsRestartRequest: true,
};
