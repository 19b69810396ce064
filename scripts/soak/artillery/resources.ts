import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPU and memory of the processes of a run, from /proc (Linux), sampled as the run goes. */

/** A process or a set of them reported as one (nginx's master and workers, the run's PostgreSQL backends). */
export type ProcessGroup = { name: string; role: string; pids: number[] };
export type GroupSample = { name: string; role: string; rssMb: number; cpuPercent: number; processes: number };
export type ResourceSample = {
  at: number;
  groups: GroupSample[];
  /** The whole machine's CPU in use (100 % = one core), whoever used it: others' work shows beside the run's. */
  machineCpuPercent: number;
};

const CLOCK_TICKS_PER_SECOND = 100;
const cores = availableParallelism(); // USER_HZ, 100 on every Linux the project runs on (getconf CLK_TCK)

type ProcStat = { ppid: number; ticks: number };

/** Parent and CPU ticks of a process; the command name may hold spaces and parentheses, so fields count from the last ')'. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Ticks the machine's cores spent busy and in all, since boot (/proc/stat: user nice system idle iowait ...). */
function machineTicks(): { busy: number; all: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = fields.reduce((sum, ticks) => sum + ticks, 0);
  return { busy: all - fields[3]! - fields[4]!, all };
}

function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Every live process with its children: one scan of /proc, for groups defined by a parent (nginx, the load generator). */
export function processTree(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (!stat) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  return children;
}

export function withDescendants(tree: Map<number, number[]>, pid: number): number[] {
  return [pid, ...(tree.get(pid) ?? []).flatMap((child) => withDescendants(tree, child))];
}

/**
 * Samples the groups `groupsNow` names at each call: RSS summed over each group's processes, and
 * CPU as a percentage of one core since the previous sample (per process, so a process that comes
 * or goes within the interval does not count another's time).
 */
export function resourceSampler(groupsNow: () => Promise<ProcessGroup[]>) {
  let previous = new Map<number, number>();
  let previousAt = performance.now();
  let previousMachine = machineTicks();
  return async (): Promise<ResourceSample> => {
    const groups = await groupsNow();
    const now = performance.now();
    const seconds = (now - previousAt) / 1000;
    const ticksNow = new Map<number, number>();
    const sampled = groups.map((group) => {
      let cpuTicks = 0;
      let rss = 0;
      let processes = 0;
      for (const pid of group.pids) {
        const stat = procStat(pid);
        if (!stat) continue;
        processes += 1;
        ticksNow.set(pid, stat.ticks);
        cpuTicks += stat.ticks - (previous.get(pid) ?? stat.ticks);
        rss += rssKb(pid);
      }
      return {
        name: group.name,
        role: group.role,
        rssMb: Math.round(rss / 102.4) / 10,
        cpuPercent: Math.round((cpuTicks / CLOCK_TICKS_PER_SECOND / seconds) * 1000) / 10,
        processes,
      };
    });
    const machine = machineTicks();
    const machineCpuPercent =
      Math.round(((machine.busy - previousMachine.busy) / (machine.all - previousMachine.all)) * cores * 1000) / 10;
    previous = ticksNow;
    previousAt = now;
    previousMachine = machine;
    return { at: Date.now(), groups: sampled, machineCpuPercent };
  };
}
