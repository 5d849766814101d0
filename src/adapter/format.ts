/**
 * Small conversions the parts share: an error as the sentence a user reads, a gdb address in
 * canonical hex, and the bound every wait of the session is multiplied by.
 */

/** The sentence of an error (our errors are written to be shown as they are). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `0x0000000000101234` → `0x101234`; anything not hex stays as it is. */
export function hexAddress(text: string): string {
  const m = /^0x0*([0-9a-f]+)$/i.exec(text.trim());
  return m ? `0x${m[1]!.toLowerCase()}` : text;
}

/** Tests shorten every bound of the session (UNIKERNEL_DEBUG_TIMEOUT_SCALE) to find hangs in seconds. */
export function timeoutScale(): number {
  const scale = Number(process.env.UNIKERNEL_DEBUG_TIMEOUT_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}
