// The extension-host tests, by name: the mocha side reports one test per name, the host side runs them.
export const HOST_TESTS = [
  'activation contributes the commands and the Crash Trace view',
  'a crashing session adds one crash, symbolized, with its console log',
  'the tree shows frames with source, registers and the console line',
  'Copy Trace as Text puts the trace on the clipboard',
  'Analyze Console Log with arguments gives the symbolized trace',
  'a console log gets the language, a diagnostic, a hover and links',
  'a symbols ELF picked for a log replaces the recorded one',
  'Clear empties the panel',
  'Reverse Step Out and Reverse Step Into walk back from a crash of a recorded session',
  'a hidden Memory view reads nothing; shown again, it reads the rows on screen',
] as const;

export type HostTestName = (typeof HOST_TESTS)[number];

export interface HostResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}
