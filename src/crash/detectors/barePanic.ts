/**
 * `PANIC: …` and `panic: …` are Rumprun's (bmk's halt and NetBSD's panic()) but
 * also what many small kernels print. One detector must take them, or a panic
 * is reported twice: Rumprun's in a run its banner began (or when no generic
 * detector runs), the generic kernel-panic detector's otherwise.
 */
import type { Platform } from '../report';
import type { LogContext } from './types';

/** The lines in question, exactly as Rumprun prints them. */
export const BARE_PANIC = /^(?:PANIC|panic): /;

/** Whether `platform`'s detector reports bare panic lines; alone (no context) a detector takes all it knows. */
export function takesBarePanics(platform: Platform, context: LogContext | undefined): boolean {
  if (!context) return true;
  const rumprun = context.platforms.has('rumprun') && (context.run === 'rumprun' || !context.platforms.has('generic'));
  return platform === (rumprun ? 'rumprun' : 'generic');
}
