// The amd64 OCaml 4.13 ABI facts and the uncaught-exception decision, against the real image's memory.
import assert from 'node:assert/strict';
import {
  ARGUMENT_REGISTERS, argumentLocation, argumentsAtEntry, classifyRaise, DOMAIN_STATE_413, domainStateOffsetsFromSymbols, RAISE_FUNCTIONS,
  readExceptionPointer, readHandlerChain,
} from '../../../src/ocaml/abi';
import { formatException } from '../../../src/ocaml/exceptions';
import { FakeMemory } from './fakeMemory';
import { domainFieldSymbols, handlerInfoSymbol, isValidAddress, raiseStop, SYM, textSymbols } from './realImage';

describe('ocaml abi: registers', () => {
  it('passes arguments in rax, rbx, rdi, rsi, rdx, rcx, r8, r9, r12, r13, then on the stack', () => {
    assert.deepEqual([...ARGUMENT_REGISTERS], ['rax', 'rbx', 'rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9', 'r12', 'r13']);
    assert.deepEqual(argumentLocation(0), { register: 'rax' });
    assert.deepEqual(argumentLocation(9), { register: 'r13' });
    assert.deepEqual(argumentLocation(10), { stackOffset: 8 });
    assert.deepEqual(argumentLocation(11), { stackOffset: 16 });
    assert.deepEqual(argumentsAtEntry(2), [{ name: 'arg1', location: { register: 'rax' } }, { name: 'arg2', location: { register: 'rbx' } }]);
    assert.equal(argumentsAtEntry().length, 10);
  });

  it('has Caml_state in r14 at the raise, the same as the Caml_state global', () => {
    const { registers, memory } = raiseStop();
    assert.equal(registers.r14, 0x172010n);
    return memory.readWord(SYM.Caml_state).then((w) => assert.equal(w, registers.r14));
  });

  it('has the exception in rax at caml_raise_exn', async () => {
    const { registers, memory } = raiseStop();
    assert.equal(RAISE_FUNCTIONS.caml_raise_exn.exception, 'rax');
    assert.equal(registers.rip, 0x1229d0n);
    assert.equal(await formatException(registers[RAISE_FUNCTIONS.caml_raise_exn.exception], memory, { isValidAddress }), 'Failure("deliberate")');
  });
});

describe('ocaml abi: domain state', () => {
  it("matches the image's own domain_field_caml_* symbols", () => {
    const fromImage = domainStateOffsetsFromSymbols(domainFieldSymbols());
    assert.equal(Object.keys(fromImage).length, 52);
    for (const [field, offset] of Object.entries(DOMAIN_STATE_413)) assert.equal(fromImage[field], offset, field);
    assert.equal(fromImage.exception_pointer, 0x10);
  });

  it('reads young_ptr and exception_pointer of the real run', async () => {
    const { registers, memory } = raiseStop();
    const state = registers.r14;
    assert.equal(await memory.readWord(state + BigInt(DOMAIN_STATE_413.young_limit)), 0x179000n);
    assert.equal(await memory.readWord(state + BigInt(DOMAIN_STATE_413.young_ptr)), 0x378df0n, 'stale: OCaml code keeps it in r15');
    assert.equal(registers.r15, 0x378dd8n, 'the allocation pointer, just below the exception block');
    assert.equal(await memory.readWord(state + BigInt(DOMAIN_STATE_413.backtrace_active)), 0n);
    assert.equal(await readExceptionPointer(memory, state), 0x7fffef0n);
  });
});

describe('ocaml abi: will the raise be caught?', () => {
  it('says uncaught for the real Failure "deliberate": the handler is the top-level one of caml_start_program', async () => {
    const { registers, memory } = raiseStop();
    assert.match(handlerInfoSymbol(), /^caml_start_program \+ 123 in section \.text$/, 'gdb: info symbol of the handler');
    const ep = (await readExceptionPointer(memory, registers.r14)) as bigint;
    assert.deepEqual(await readHandlerChain(memory, ep), [{ address: 0x7fffef0n, previous: 0n, handler: 0x1229c7n }]);
    const verdict = await classifyRaise(memory, ep);
    assert.equal(verdict.kind, 'uncaught');
    assert.equal(await memory.symbolAt(0x1229c7n), 'caml_start_program + 123');
  });

  const code = textSymbols();
  const inMain = 0x106200n; // inside camlHello__main_96
  function stack(frames: [bigint, bigint, bigint][]): FakeMemory {
    const m = new FakeMemory();
    m.addSymbols(code);
    for (const [at, previous, handler] of frames) {
      m.setWord(at, previous);
      m.setWord(at + 8n, handler);
    }
    return m;
  }

  it('says caught when a try in OCaml code installed the next handler', async () => {
    const m = stack([[0x7fff000n, 0x7fffef0n, inMain], [0x7fffef0n, 0n, 0x1229c7n]]);
    const v = await classifyRaise(m, 0x7fff000n);
    assert.equal(v.kind, 'caught');
    assert.equal(v.kind === 'caught' && v.handlerSymbol, 'camlHello__main_96');
    assert.equal((await readHandlerChain(m, 0x7fff000n)).length, 2);
  });

  it('follows a callback from C: caml_callback re-raises into the outer chain', async () => {
    const outerUncaught = stack([[0x7ff0000n, 0x7fffef0n, 0x1229c7n], [0x7fffef0n, 0n, 0x1229c7n]]);
    const v = await classifyRaise(outerUncaught, 0x7ff0000n);
    assert.equal(v.kind, 'toC');
    assert.equal(v.kind === 'toC' && v.then.kind, 'uncaught');
    const outerCaught = stack([[0x7ff0000n, 0x7ff8000n, 0x1229c7n], [0x7ff8000n, 0x7fffef0n, inMain], [0x7fffef0n, 0n, 0x1229c7n]]);
    const w = await classifyRaise(outerCaught, 0x7ff0000n);
    assert.equal(w.kind === 'toC' && w.then.kind, 'caught');
  });

  it('says uncaught with no handler at all (caml_raise then calls caml_fatal_uncaught_exception)', async () => {
    assert.equal((await classifyRaise(new FakeMemory(), 0n)).kind, 'uncaught');
  });

  it('says unknown for an unreadable or corrupt chain', async () => {
    assert.equal((await classifyRaise(stack([]), 0x7fff000n)).kind, 'unknown');
    const down = stack([[0x7ff0000n, 0x7fe0000n, 0x1229c7n]]);
    assert.equal((await classifyRaise(down, 0x7ff0000n)).kind, 'unknown');
    assert.equal((await readHandlerChain(down, 0x7ff0000n)).length, 1);
  });

  it('accepts the handler test from the caller', async () => {
    const m = new FakeMemory();
    m.setWord(0x7fffef0n, 0n);
    m.setWord(0x7fffef8n, 0x1229c7n);
    assert.equal((await classifyRaise(m, 0x7fffef0n)).kind, 'caught', 'no symbols: not recognised by default');
    const v = await classifyRaise(m, 0x7fffef0n, { isStartProgramHandler: (h) => h >= SYM.caml_start_program && h < 0x1229d0n });
    assert.equal(v.kind, 'uncaught');
  });
});
