/**
 * Entry point of the `unikernel-trace` bin (bundled to dist/cli.js).
 */
import { main } from './run';

main(process.argv.slice(2)).then(
  (code) => {
    // exitCode, not exit(): let a large report drain into a pipe first.
    process.exitCode = code;
  },
  () => {
    process.exitCode = 2;
  },
);
