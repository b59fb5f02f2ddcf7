/**
 * A share of one CPU for the processes put in it, the way Lambda gives an invocation memory/1,769 of a vCPU: a Linux
 * CFS quota (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`) of `share` x `periodUs`. Lambda does not document its
 * period, and a burst shorter than one period is hardly throttled at all, so the bench runs two (first-event.ts).
 * Needs a writable cgroup filesystem (root, as on the bench machine); elsewhere `cpuShare` returns undefined and the
 * bench reports the model alone.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuShare {
  /** The file a process writes its pid to, to enter the share. */
  readonly procs: string;
  close(): void;
}

const MOUNTS = [
  // cgroup v2, unified at the root or beside the v1 controllers.
  { dir: '/sys/fs/cgroup', v2: true },
  { dir: '/sys/fs/cgroup/unified', v2: true },
  // cgroup v1's cpu controller.
  { dir: '/sys/fs/cgroup/cpu', v2: false },
];

export function cpuShare(name: string, share: number, periodUs: number): CpuShare | undefined {
  const quota = Math.max(1000, Math.round(Math.min(1, share) * periodUs));
  for (const mount of MOUNTS) {
    const control = mount.v2 ? join(mount.dir, 'cgroup.subtree_control') : join(mount.dir, 'cpu.cfs_quota_us');
    if (!existsSync(control)) continue;
    if (mount.v2 && !existsSync(join(mount.dir, 'cgroup.controllers'))) continue;
    const dir = join(mount.dir, `${name}-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
      if (mount.v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${periodUs}`);
      else {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(periodUs));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      }
      return {
        procs: join(dir, 'cgroup.procs'),
        close: () => {
          try {
            rmdirSync(dir);
          } catch {
            // A process still in it (a child that did not exit): left for the machine to clean up.
          }
        },
      };
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // Never made.
      }
    }
  }
  return undefined;
}
