import assert from 'node:assert/strict';
import type { CrashReport } from '../../../src/crash/report';
import type { MiStop } from '../../../src/mi/commands';
import { CRASH_PATHS } from '../../../src/adapter/crashPaths';
import { classifyStop, intentAfter, type StopContext } from '../../../src/adapter/stops';

const SOLO5_ABORT = CRASH_PATHS.find((p) => p.symbol === 'solo5_abort')!;
const REPORT: CrashReport = { platform: 'solo5', kind: 'abort', message: 'Solo5: ABORT: boom', line: 3, registers: {}, frames: [] };

/** A configured session, guest stopped, no command under way: breakpoint 1 is the user's. */
const context = (over: Partial<StopContext> = {}): StopContext => ({
  intent: {},
  silent: false,
  ignoring: false,
  functionBreakpoints: new Set(['2']),
  instructionBreakpoints: new Set(['3']),
  logpoints: new Map([['4', 'x is {x}']]),
  crashPaths: new Map([['5', SOLO5_ABORT]]),
  crashShown: false,
  stopOnCrash: true,
  machine: true,
  replay: false,
  ...over,
});

const stop = (reason: string, over: Partial<MiStop> = {}): MiStop => ({ reason, threadId: 1, ...over });
const hit = (breakpoint: string): MiStop => stop('breakpoint-hit', { breakpoint, pc: '0x101000' });
const signal = (name: string, pc = '0x101000'): MiStop => stop('signal-received', { signal: name, pc });

describe('stop classification', () => {
  describe("the user's stops", () => {
    it('a breakpoint, by its family', () => {
      assert.deepEqual(classifyStop(hit('1'), context()), { kind: 'user', threadId: 1, reason: 'breakpoint' });
      assert.deepEqual(classifyStop(hit('2'), context()), { kind: 'user', threadId: 1, reason: 'function breakpoint' });
      assert.deepEqual(classifyStop(hit('3'), context()), { kind: 'user', threadId: 1, reason: 'instruction breakpoint' });
    });

    it('the thread of the stop is the one reported', () => {
      assert.deepEqual(classifyStop({ ...hit('1'), threadId: 3 }, context()), { kind: 'user', threadId: 3, reason: 'breakpoint' });
    });

    it('the entry breakpoint of stopAtEntry', () => {
      assert.deepEqual(classifyStop(hit('7'), context({ entryBreakpoint: '7' })), { kind: 'user', threadId: 1, reason: 'entry' });
    });

    it('a step: end of range, finish, location reached, and a step ending in a SIGTRAP', () => {
      for (const reason of ['end-stepping-range', 'function-finished', 'location-reached']) {
        assert.deepEqual(classifyStop(stop(reason), context({ intent: { expected: 'step' } })), { kind: 'user', threadId: 1, reason: 'step' });
      }
      assert.deepEqual(classifyStop(signal('SIGTRAP'), context({ intent: { expected: 'step' } })), { kind: 'user', threadId: 1, reason: 'step' });
    });

    it('a pause: SIGINT, or whatever stop answers the user\'s Pause', () => {
      assert.deepEqual(classifyStop(signal('SIGINT'), context()), { kind: 'user', threadId: 1, reason: 'pause' });
      assert.deepEqual(classifyStop(signal('SIGTRAP'), context({ intent: { expected: 'pause' } })), { kind: 'user', threadId: 1, reason: 'pause' });
      assert.deepEqual(classifyStop(stop(''), context()), { kind: 'user', threadId: 1, reason: 'pause' });
    });

    it('a data breakpoint: write, read and access watchpoints', () => {
      for (const reason of ['watchpoint-trigger', 'read-watchpoint-trigger', 'access-watchpoint-trigger']) {
        assert.deepEqual(classifyStop(stop(reason), context()), { kind: 'user', threadId: 1, reason: 'data breakpoint' });
      }
    });

    it('a signal nobody expected is an exception', () => {
      assert.deepEqual(classifyStop(signal('SIGSEGV'), context()), { kind: 'user', threadId: 1, reason: 'exception' });
      assert.deepEqual(classifyStop(signal('SIGTRAP'), context()), { kind: 'user', threadId: 1, reason: 'exception' });
    });
  });

  describe('exits and stops nobody sees', () => {
    it('an exit ends the session, whatever else is going on', () => {
      for (const reason of ['exited-normally', 'exited', 'exited-signalled']) {
        assert.deepEqual(classifyStop(stop(reason), context({ silent: true, ignoring: true })), { kind: 'exited' });
      }
    });

    it('the stop a silent run or pause waits for', () => {
      assert.deepEqual(classifyStop(hit('5'), context({ silent: true })), { kind: 'silent' });
      assert.deepEqual(classifyStop(signal('SIGINT'), context({ silent: true, ignoring: true })), { kind: 'silent' });
    });

    it('stops before configurationDone or while QEMU is replaced are ignored', () => {
      assert.deepEqual(classifyStop(signal('SIGTRAP', '0xfff0'), context({ ignoring: true })), { kind: 'ignored' });
      assert.deepEqual(classifyStop(hit('1'), context({ ignoring: true })), { kind: 'ignored' });
    });
  });

  describe('restart', () => {
    it('the restart guard: go on, or stop there when it is where the user stops at entry', () => {
      assert.deepEqual(classifyStop(hit('9'), context({ restartGuard: { breakpoint: '9', stopThere: false } })), { kind: 'restart-entry', threadId: 1, show: false });
      assert.deepEqual(classifyStop(hit('9'), context({ restartGuard: { breakpoint: '9', stopThere: true } })), { kind: 'restart-entry', threadId: 1, show: true });
    });

    it('other breakpoints during a restart are the user\'s', () => {
      assert.deepEqual(classifyStop(hit('1'), context({ restartGuard: { breakpoint: '9', stopThere: false } })), { kind: 'user', threadId: 1, reason: 'breakpoint' });
    });
  });

  describe('crashes', () => {
    it('a crash path', () => {
      assert.deepEqual(classifyStop(hit('5'), context()), { kind: 'crash-path', threadId: 1, path: SOLO5_ABORT });
    });

    it('a crash path of the crash already shown goes on: one crash, one stop', () => {
      assert.deepEqual(classifyStop(hit('5'), context({ crashShown: true })), { kind: 'crash-continues', threadId: 1 });
    });

    it('a crash path wins over the step the user was doing', () => {
      assert.deepEqual(classifyStop(hit('5'), context({ intent: { expected: 'step', reverseLine: true } })), { kind: 'crash-path', threadId: 1, path: SOLO5_ABORT });
    });

    it('the console crash the adapter interrupted the guest for', () => {
      const c = context({ intent: { expected: 'exception', consoleCrash: REPORT } });
      assert.deepEqual(classifyStop(signal('SIGINT'), c), { kind: 'console-crash', threadId: 1, report: REPORT });
    });
  });

  describe('the machine pausing itself (SIGQUIT)', () => {
    it('asks QMP why first', () => {
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context()), { kind: 'machine-paused', threadId: 1 });
    });

    // QEMU reports a triple fault and a reset the guest asked for (outb 0xcf9) alike: SHUTDOWN, guest-reset.
    it('a triple fault stops there when the Crashes filter is on', () => {
      assert.deepEqual(classifyStop(signal('SIGQUIT', '0x1013a7'), context({ shutdownCause: 'guest-reset' })), { kind: 'reset', threadId: 1, show: true });
    });

    it('a reset the guest asked for is the same stop; with the Crashes filter off, QEMU is ended instead', () => {
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context({ shutdownCause: 'guest-reset' })), { kind: 'reset', threadId: 1, show: true });
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context({ shutdownCause: 'guest-reset', stopOnCrash: false })), { kind: 'reset', threadId: 1, show: false });
    });

    it('a power-off (or a cause QMP did not give) ends QEMU', () => {
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context({ shutdownCause: 'guest-shutdown' })), { kind: 'power-off' });
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context({ shutdownCause: '' })), { kind: 'power-off' });
    });

    it('without QMP (an attached guest), SIGQUIT is an exception like any signal', () => {
      assert.deepEqual(classifyStop(signal('SIGQUIT'), context({ machine: false })), { kind: 'user', threadId: 1, reason: 'exception' });
    });
  });

  describe('replay', () => {
    it('the end of the recording going forward', () => {
      assert.deepEqual(classifyStop(signal('SIGINT'), context({ replay: true })), { kind: 'user', threadId: 1, reason: 'step', note: 'recording-end' });
      // The user's own Pause in a replay stays a pause.
      assert.deepEqual(classifyStop(signal('SIGINT'), context({ replay: true, intent: { expected: 'pause' } })), { kind: 'user', threadId: 1, reason: 'pause' });
    });

    it('the start of the recording going back: no history, or QEMU\'s trap at the reset vector', () => {
      assert.deepEqual(classifyStop(stop('no-history'), context({ replay: true })), { kind: 'user', threadId: 1, reason: 'step', note: 'history-start' });
      assert.deepEqual(classifyStop(signal('SIGTRAP', '0x000000000000fff0'), context({ replay: true, intent: { expected: 'step' } })), { kind: 'user', threadId: 1, reason: 'step', note: 'history-start' });
      assert.deepEqual(classifyStop(signal('SIGTRAP', '0xfff0'), context({ intent: { expected: 'step' } })), { kind: 'user', threadId: 1, reason: 'step' });
    });

    it('a reverse line step that stopped inside its line goes on to the line\'s start', () => {
      const c = context({ replay: true, intent: { expected: 'step', reverseLine: true } });
      assert.deepEqual(classifyStop(stop('end-stepping-range', { pc: '0x101234' }), c), { kind: 'reverse-line', threadId: 1, pc: '0x101234' });
      assert.deepEqual(classifyStop(hit('1'), c), { kind: 'user', threadId: 1, reason: 'breakpoint' });
    });

    it('a reverse continue stopped by a watchpoint (or its SIGTRAP) goes back onto the write', () => {
      const c = context({ replay: true, intent: { expected: 'step', reverseWatch: true } });
      assert.deepEqual(classifyStop(stop('watchpoint-trigger'), c), { kind: 'reverse-watch', threadId: 1 });
      assert.deepEqual(classifyStop(signal('SIGTRAP'), c), { kind: 'reverse-watch', threadId: 1 });
      assert.deepEqual(classifyStop(hit('1'), c), { kind: 'user', threadId: 1, reason: 'breakpoint' });
    });
  });

  describe('logpoints', () => {
    it('print and go on', () => {
      assert.deepEqual(classifyStop(hit('4'), context()), { kind: 'logpoint', threadId: 1, message: 'x is {x}' });
    });
  });

  describe('what a stop leaves of the running command\'s intent', () => {
    const intent = { expected: 'step' as const, reverseLine: true, reverseWatch: true, consoleCrash: REPORT };

    it('stops the adapter goes on from keep it', () => {
      for (const s of [classifyStop(stop('exited-normally'), context()), { kind: 'silent' as const }, { kind: 'ignored' as const }, { kind: 'restart-entry' as const, threadId: 1, show: false }, { kind: 'machine-paused' as const, threadId: 1 }]) {
        assert.deepEqual(intentAfter(s, intent), intent, s.kind);
      }
    });

    it('a logpoint keeps what the command expects, not its reverse flags', () => {
      assert.deepEqual(intentAfter({ kind: 'logpoint', threadId: 1, message: '' }, intent), { expected: 'step', consoleCrash: REPORT });
    });

    it('any other stop ends the command', () => {
      for (const s of [classifyStop(hit('1'), context()), classifyStop(hit('5'), context()), { kind: 'power-off' as const }, { kind: 'reset' as const, threadId: 1, show: true }]) {
        assert.deepEqual(intentAfter(s, intent), {}, s.kind);
      }
    });
  });
});
