/**
 * OCaml exception values, printed the way the runtime prints an uncaught one
 * (printexc.c caml_format_exception: `Fatal error: exception Failure("deliberate")`).
 *
 * Layout (4.x and 5.x): an exception constructor is an Object_tag block
 * { name : string; id : int } (for the predefined ones, static data `caml_exn_Failure`).
 * A constant exception (`Not_found`) is the constructor block itself; one with arguments
 * is a tag-0 block { constructor; arg1; … }. Match_failure, Assert_failure and
 * Undefined_recursive_module carry one tuple argument whose fields are printed as
 * arguments: `Assert_failure("unikernel.ml", 42, 4)`.
 * Arguments: ints in decimal, strings quoted with OCaml escapes (as %S does; the C
 * runtime prints them raw), floats as string_of_float (as Printexc.to_string does),
 * anything else `_`.
 */
import { anyPlausibleAddress, isImmediate, readBlock, readDouble, readField, readStringBlock, Tag, untag, type AddressCheck, type OcamlMemory } from './heap';
import { stringLiteral, stringOfFloat } from './format';

export interface ExceptionOptions {
  isValidAddress?: AddressCheck;
  /** Most arguments printed; more show as `…` (default 16). */
  maxArgs?: number;
  /** Most bytes of a string argument printed (default 1000). */
  maxStringLength?: number;
}

export interface OcamlException {
  /** The constructor's name as the runtime stores it: `Failure`, `Stdlib.Exit`, `Config.Invalid`. */
  name: string;
  /** As printed: `Failure("deliberate")`, `Not_found`. */
  text: string;
  /** Address of the constructor (Object_tag) block. */
  constructorBlock: bigint;
  /** The exception value is the constructor itself (no arguments). */
  constant: boolean;
  /** The printed arguments' raw words (a special exception's tuple already unpacked). */
  args: bigint[];
}

const SPECIAL = new Set(['Match_failure', 'Assert_failure', 'Undefined_recursive_module']);

/** The exception a value holds, or undefined when it does not look like one. */
export async function readException(word: bigint, mem: OcamlMemory, options: ExceptionOptions = {}): Promise<OcamlException | undefined> {
  const isValid = options.isValidAddress ?? anyPlausibleAddress;
  if (isImmediate(word)) return undefined;
  const block = await readBlock(mem, word, isValid);
  if (!block.ok) return undefined;
  if (block.header.tag === Tag.Object) {
    const name = await constructorName(mem, block.pointer, isValid);
    return name === undefined ? undefined : { name, text: name, constructorBlock: block.pointer, constant: true, args: [] };
  }
  if (block.header.tag !== 0 || block.header.wosize < 1) return undefined;
  const ctorWord = await readField(mem, block.pointer, 0);
  if (ctorWord === undefined || isImmediate(ctorWord)) return undefined;
  const ctor = await readBlock(mem, ctorWord, isValid);
  if (!ctor.ok || ctor.header.tag !== Tag.Object) return undefined;
  const name = await constructorName(mem, ctor.pointer, isValid);
  if (name === undefined) return undefined;

  let bucket = block.pointer;
  let count = block.header.wosize - 1;
  let first = 1;
  if (SPECIAL.has(name) && block.header.wosize === 2) {
    const tuple = await readField(mem, block.pointer, 1);
    if (tuple !== undefined && !isImmediate(tuple)) {
      const t = await readBlock(mem, tuple, isValid);
      if (t.ok && t.header.tag === 0) {
        bucket = t.pointer;
        count = t.header.wosize;
        first = 0;
      }
    }
  }
  const maxArgs = options.maxArgs ?? 16;
  const args: bigint[] = [];
  const shown: string[] = [];
  for (let i = 0; i < Math.min(count, maxArgs); i++) {
    const arg = await readField(mem, bucket, first + i);
    if (arg === undefined) {
      shown.push('_');
      continue;
    }
    args.push(arg);
    shown.push(await formatArgument(arg, mem, isValid, options.maxStringLength ?? 1000));
  }
  if (count > maxArgs) shown.push('…');
  const text = count === 0 ? name : `${name}(${shown.join(', ')})`;
  return { name, text, constructorBlock: ctor.pointer, constant: false, args };
}

/** `Failure("deliberate")`, or undefined when the value is not an exception. */
export async function formatException(word: bigint, mem: OcamlMemory, options: ExceptionOptions = {}): Promise<string | undefined> {
  return (await readException(word, mem, options))?.text;
}

/** The name of an exception constructor block: field 0 a string, field 1 an integer id. */
async function constructorName(mem: OcamlMemory, pointer: bigint, isValid: AddressCheck): Promise<string | undefined> {
  const [nameWord, id] = [await readField(mem, pointer, 0), await readField(mem, pointer, 1)];
  if (nameWord === undefined || id === undefined || !isImmediate(id) || isImmediate(nameWord)) return undefined;
  const s = await readBlock(mem, nameWord, isValid);
  if (!s.ok || s.header.tag !== Tag.String) return undefined;
  const text = await readStringBlock(mem, s.pointer, s.header, 256);
  if (!text || text.length === 0 || text.truncated) return undefined;
  return text.bytes.toString('latin1');
}

async function formatArgument(word: bigint, mem: OcamlMemory, isValid: AddressCheck, maxString: number): Promise<string> {
  if (isImmediate(word)) return untag(word).toString();
  const b = await readBlock(mem, word, isValid);
  if (!b.ok) return '_';
  if (b.header.tag === Tag.String) {
    const s = await readStringBlock(mem, b.pointer, b.header, maxString);
    return s ? stringLiteral(s.bytes, s.truncated) : '_';
  }
  if (b.header.tag === Tag.Double) {
    const x = await readDouble(mem, b.pointer);
    return x === undefined ? '_' : stringOfFloat(x);
  }
  return '_';
}
