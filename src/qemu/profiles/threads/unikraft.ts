/**
 * Unikraft 0.17's lib/uksched (x86_64), measured on the helloworld image: schedulers are chained from
 * `uk_sched_head` through `next`; each has `thread_list` (every live thread, through
 * `uk_thread.thread_list`) and `exited_threads`; the running thread of CPU n is
 * `__uk_sched_thread_current[n]`. A new thread's context is `_ctx_x86_clearregs` with
 * `_ctx_x86_callN`, its arguments, its entry and a zero return address on its stack
 * (ukarch_ctx_init_entryN); with keep_regs it starts at `_ctx_x86_callN` directly.
 */
import type { SchedulerLayout } from './types';

/** uk_thread.flags (Unikraft's names). */
export const UK_THREADF_RUNNABLE = 0x008;
export const UK_THREADF_EXITED = 0x010;

export const unikraftScheduler: SchedulerLayout = {
  label: "Unikraft's uksched",
  threadType: 'struct uk_thread',
  schedulers: { first: 'uk_sched_head', type: 'struct uk_sched', next: 'next' },
  lists: [{ head: 'thread_list' }, { head: 'exited_threads', exited: true }],
  link: 'thread_list',
  name: { member: 'name', inline: false },
  flags: 'flags',
  wakeup: { member: 'wakeup_time', none: [0n] },
  context: { ip: 'ctx.ip', sp: 'ctx.sp' },
  running: { array: '__uk_sched_thread_current' },
  states: [
    { state: 'exited', onExitedList: true },
    { state: 'exited', flags: { any: UK_THREADF_EXITED } },
    { state: 'running', running: true },
    { state: 'runnable', flags: { any: UK_THREADF_RUNNABLE } },
    { state: 'sleeping', hasDeadline: true },
    { state: 'blocked' },
  ],
  // ukarch_ctx_switch: push rbp, rbx, r12, r13, r14, r15; rsp → ctx.sp
  switchPushes: ['rbp', 'rbx', 'r12', 'r13', 'r14', 'r15'],
  trampolines: [
    { symbol: '_ctx_x86_clearregs', pops: ['ip'] },
    { symbol: '_ctx_x86_call0', pops: ['ip'] },
    { symbol: '_ctx_x86_call1', pops: ['rdi', 'ip'] },
    { symbol: '_ctx_x86_call2', pops: ['rsi', 'rdi', 'ip'] },
  ],
};
