/**
 * The reaper watcher on its own (dist/reaper.js): a few kilobytes to load, so that starting it at
 * a session's start takes no CPU from gdb's own start-up (the adapter's bundle also runs it with
 * --reaper, at the cost of loading everything).
 */
import { runReaper } from './reaper';

runReaper();
