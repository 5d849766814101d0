/**
 * Ending a child for good: its whole tree (tree-kill finds descendants that left the group) and its
 * process group, with SIGKILL, because a guest that ignores signals must not survive the session.
 */
import treeKill from 'tree-kill';

export function killProcessTree(pid: number): Promise<void> {
  return new Promise<void>((resolve) => {
    treeKill(pid, 'SIGKILL', () => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* the group is gone already */
      }
      resolve();
    });
  });
}
