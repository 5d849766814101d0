/**
 * Rumprun's scheduler (lib/libbmk_core/sched.c, x86_64): every thread is on `threadq` through
 * `bt_threadq`, an exited one moves to `zombieq` until the next switch reaps it; `bt_flags` says which
 * queue a thread is on. `bmk_current` is a `__thread` variable gdb cannot read without thread_db, so
 * the running thread is found by its THR_RUNNING flag instead.
 */
import type { SchedulerLayout } from './types';

/** bt_flags (Rumprun's names). */
export const THR_RUNQ = 0x0001;
export const THR_TIMEQ = 0x0002;
export const THR_BLOCKQ = 0x0004;
export const THR_RUNNING = 0x0008;
export const THR_DEAD = 0x0200;

export const rumprunScheduler: SchedulerLayout = {
  label: "Rumprun's bmk scheduler",
  threadType: 'struct bmk_thread',
  lists: [{ head: 'threadq' }, { head: 'zombieq', exited: true }],
  link: 'bt_threadq',
  name: { member: 'bt_name', inline: true },
  flags: 'bt_flags',
  // BMK_SCHED_BLOCK_INFTIME
  wakeup: { member: 'bt_wakeup_time', none: [0xffffffffffffffffn] },
  context: { ip: 'bt_tcb.btcb_ip', sp: 'bt_tcb.btcb_sp' },
  running: { flags: THR_RUNNING },
  states: [
    { state: 'exited', onExitedList: true },
    { state: 'exited', flags: { any: THR_DEAD } },
    { state: 'running', running: true },
    { state: 'sleeping', flags: { any: THR_TIMEQ } },
    { state: 'blocked', flags: { any: THR_BLOCKQ } },
    { state: 'runnable', flags: { any: THR_RUNQ } },
    // between blockprepare and the switch, or a flag word we do not know
    { state: 'blocked' },
  ],
  // bmk_cpu_sched_switch: pushq rbp, rbx, r12, r13, r14, r15; rsp → btcb_sp
  switchPushes: ['rbp', 'rbx', 'r12', 'r13', 'r14', 'r15'],
  // bmk_cpu_sched_create leaves arg, then f on the new stack; the bouncer pops them and calls f
  trampolines: [{ symbol: 'bmk_cpu_sched_bouncer', pops: ['rdi', 'ip'] }],
};
