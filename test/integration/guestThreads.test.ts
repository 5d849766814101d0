/**
 * Guest threads in the adapter: the two scheduler fixtures (Rumprun's layout and Unikraft 0.17's)
 * stopped at their marker, seen through DAP as VS Code sees them: the threads by name and state,
 * the stop on the thread that hit it, switched-out threads' stacks and locals rebuilt from their
 * saved contexts, evaluation in their frames, the step refused, and the guest run on unharmed.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { BUILD, STOP_TIMEOUT, Session, marker, withSession } from './helpers';

const FIXTURES = [
  {
    title: 'Rumprun layout (threads-rumprun.bin)', kernel: join(BUILD, 'threads-rumprun.bin'), prefix: 'rrthreads', main: 'main', exits: false,
    names: ['main', 'worker (blocked)', 'sleeper (sleeping until 5.000 s)', 'yielder (runnable)', 'fresh (runnable, not started)', 'exiter (exited)'],
  },
  {
    title: 'Unikraft layout (threads_qemu-x86_64)', kernel: join(BUILD, 'threads_qemu-x86_64'), prefix: 'ukthreads', main: 'init', exits: true,
    names: ['idle (runnable, not started)', 'init', 'worker (blocked)', 'sleeper (sleeping until 5.000 s)', 'yielder (runnable)', 'fresh (runnable, not started)', 'exiter (exited)'],
  },
];

/** The thread whose name starts with `name` (its state follows in parentheses). */
function thread(threads: DebugProtocol.Thread[], name: string): DebugProtocol.Thread {
  const t = threads.find((x) => x.name === name || x.name.startsWith(`${name} (`));
  assert.ok(t, `${name} in ${threads.map((x) => x.name).join(', ')}`);
  return t;
}

/** The frame of `func` in a thread's stack, which must be its last (the start function ends it). */
async function startFrame(s: Session, threadId: number, func: string): Promise<DebugProtocol.StackFrame> {
  const frames = await s.topFrames(threadId, 40);
  assert.ok(frames.length > 0, `${func}: a stack`);
  const last = frames[frames.length - 1]!;
  assert.equal(last.name, func, `the stack ends in ${func}: ${frames.map((f) => f.name).join(' <- ')}`);
  return last;
}

describe('guest threads in the Call Stack view', function () {
  this.timeout(120_000);
  let s: Session;
  withSession((session) => (s = session));

  for (const f of FIXTURES) {
    describe(f.title, () => {
      it('lists the threads by name and state, stops on the one that hit the breakpoint, unwinds the others, and the guest runs on', async () => {
        const at = marker(`${f.prefix}-all-blocked`);
        const stop = await s.startTo('launch', { kernel: f.kernel }, [at]);
        const threads = (await s.dc.threadsRequest()).body.threads;
        assert.deepEqual(threads.map((t) => t.name), f.names);
        const main = thread(threads, f.main);
        assert.equal(stop.body.threadId, main.id, 'the stop names the running guest thread');
        const top = (await s.topFrames(main.id))[0]!;
        assert.equal(top.name, 'main');
        assert.equal(top.line, at.line);

        // a blocked thread: its stack ends in its start function, at its wait line, with its locals
        const worker = thread(threads, 'worker');
        const wf = await startFrame(s, worker.id, 'worker_main');
        assert.equal(wf.line, marker(`${f.prefix}-worker-wait`).line);
        assert.equal(wf.source?.path, marker(`${f.prefix}-worker-wait`).path);
        const locals = await s.locals(wf.id);
        assert.equal(locals.get('handled')?.value, '0');
        assert.equal(locals.get('checksum')?.value, String(0x5eed));
        const ev = await s.dc.evaluateRequest({ expression: 'checksum + handled + 1', frameId: wf.id, context: 'watch' });
        assert.equal(ev.body.result, String(0x5eed + 1));
        // Requests in the running thread's frame and in the blocked one's, all at once: each sees its own thread.
        const mixed = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            i % 3 === 0
              ? s.dc.evaluateRequest({ expression: '$pc', frameId: wf.id, context: 'watch' })
              : s.dc.evaluateRequest({ expression: '$pc', frameId: top.id, context: 'watch' }),
          ),
        );
        const pcOf = (r: DebugProtocol.EvaluateResponse): bigint => BigInt(/0x[0-9a-f]+/.exec(r.body.result)?.[0] ?? '-1');
        mixed.forEach((r, i) => assert.equal(pcOf(r), BigInt(i % 3 === 0 ? wf.instructionPointerReference! : top.instructionPointerReference!), `request ${i}: ${r.body.result}`));

        const sleeper = thread(threads, 'sleeper');
        const sf = await startFrame(s, sleeper.id, 'sleeper_main');
        assert.equal(sf.line, marker(`${f.prefix}-sleeper-nap`).line);
        assert.equal((await s.locals(sf.id)).get('nap')?.value, '5000000000');

        const yielder = thread(threads, 'yielder');
        const yf = await startFrame(s, yielder.id, 'yielder_main');
        assert.equal(yf.line, marker(`${f.prefix}-yielder-yield`).line);

        const fresh = (await s.topFrames(thread(threads, 'fresh').id))[0]!;
        assert.equal(fresh.name, 'fresh_main');

        // a thread not on a CPU is not stepped
        await assert.rejects(s.dc.nextRequest({ threadId: worker.id }), /worker is not running on a CPU \(blocked\): step the running thread, or continue and let the scheduler run it\./);

        // the running thread's frames are the CPU's own, as before, and it steps as before
        const again = await s.topFrames(main.id);
        assert.equal(again[0]!.name, 'main');
        assert.equal(again[0]!.line, at.line);
        const stepped = await s.resumeTo(() => s.dc.nextRequest({ threadId: main.id }));
        assert.equal(stepped.body.threadId, main.id);
        const after = (await s.topFrames(main.id))[0]!;
        assert.equal(after.name, 'main');
        assert.ok(after.line > at.line, `stepped to line ${after.line}`);

        // ids are kept across stops; the guest then runs to its end as without the feature
        const done = marker(`${f.prefix}-worker-done`);
        await s.dc.setBreakpointsRequest({ source: { path: at.path }, breakpoints: [] });
        await s.dc.setBreakpointsRequest({ source: { path: done.path }, breakpoints: [{ line: done.line }] });
        const second = await s.resumeTo(() => s.dc.continueRequest({ threadId: main.id }));
        const later = (await s.dc.threadsRequest()).body.threads;
        assert.equal(thread(later, 'worker').id, worker.id);
        assert.equal(thread(later, 'worker').name, 'worker');
        assert.equal(second.body.threadId, worker.id, 'the worker hit this one');
        assert.equal(thread(later, f.main).id, main.id);
        await s.dc.setBreakpointsRequest({ source: { path: done.path }, breakpoints: [] });
        const exited = f.exits ? (s.dc.waitForEvent('exited', STOP_TIMEOUT) as Promise<DebugProtocol.ExitedEvent>) : undefined;
        await s.dc.continueRequest({ threadId: worker.id });
        await s.waitForOutput(/worker: checksum of 3 jobs = 723951124\r?\n[\s\S]*threads: all done/);
        // Unikraft's exit port: QEMU exits 83, the guest's success; Rumprun's _exit halts the vCPU
        if (exited) assert.equal((await exited).body.exitCode, 0, 'the guest finished as usual');
        else await s.waitForOutput(/=== _exit\(0\) called ===/);
      });
    });
  }
});
