import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per process, from /proc (Linux): user + system time in clock ticks of 10 ms. PostgreSQL
 * and Redis are counted over every process of theirs (one backend per connection, started and ended
 * during the run), by command name; our own services by pid.
 */
const TICK_SECONDS = 0.01;

type Sample = Map<string, number>;

/** CPU seconds and process group of a process, or undefined once it has ended. */
function statOf(pid: number): { seconds: number; group: number } | undefined {
  try {
    // The command name is in parentheses and may hold spaces: fields are counted after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { seconds: (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS, group: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

const cpuSecondsOf = (pid: number) => statOf(pid)?.seconds;

function commandOf(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Tracks named processes and the PostgreSQL and Redis servers; `sample()` gives CPU seconds by name.
 * `groups` names process groups counted whole, by the pid of their leader: nginx's master and the
 * workers it forks.
 */
export function cpuMeter(processes: Record<string, number>, groups: Record<string, number> = {}) {
  const groupNames = new Map(Object.entries(groups).map(([name, leader]) => [leader, name]));
  // A backend that ended between two samples took its CPU time with it: remember each pid's last reading.
  const lastSeen = new Map<number, { name: string; seconds: number }>();

  const sample = (): Sample => {
    for (const [name, pid] of Object.entries(processes)) {
      const seconds = cpuSecondsOf(pid);
      if (seconds !== undefined) lastSeen.set(pid, { name, seconds });
    }
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const command = commandOf(entry);
      const server = command === 'postgres' ? 'postgres' : command === 'redis-server' ? 'redis' : undefined;
      if (!server && groupNames.size === 0) continue;
      const stat = statOf(Number(entry));
      const name = server ?? (stat && groupNames.get(stat.group));
      if (name && stat) lastSeen.set(Number(entry), { name, seconds: stat.seconds });
    }
    const totals: Sample = new Map();
    for (const { name, seconds } of lastSeen.values()) totals.set(name, (totals.get(name) ?? 0) + seconds);
    return totals;
  };

  return {
    /** CPU seconds used by each process between `start()` and the call, and per unit of `work`. */
    start() {
      const before = sample();
      const startedAt = performance.now();
      // Sampled on the way too, so a backend that ends before the step does is not lost.
      const ticking = setInterval(sample, 500);
      return (work: number) => {
        clearInterval(ticking);
        const after = sample();
        const wallSeconds = (performance.now() - startedAt) / 1000;
        return Object.fromEntries(
          [...after].map(([name, seconds]) => {
            const used = seconds - (before.get(name) ?? 0);
            return [
              name,
              {
                cpuPercent: Math.round((used / wallSeconds) * 100),
                msPerUnit: work > 0 ? Number(((used * 1000) / work).toFixed(3)) : null,
              },
            ];
          }),
        );
      };
    },
  };
}

/**
 * Whatever else used the machine meanwhile (a build, another benchmark): CPU seconds of the whole
 * machine (/proc/stat) less those of the processes we measure, plus PostgreSQL backends serving
 * another database (cpuMeter counts every postgres process). A round it disturbs is flagged.
 */
export function foreignCpu(database: string) {
  const machine = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (fields.reduce((sum, value) => sum + value, 0) - fields[3]! - fields[4]!) * TICK_SECONDS; // less idle and iowait
  };
  const otherBackends = () => {
    let seconds = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // A backend is "postgres: <cluster>: <user> <database> <client> <state>".
        const backendOf = /^postgres: \S+: \S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(
          readFileSync(`/proc/${entry}/cmdline`, 'utf8'),
        );
        if (!backendOf || backendOf[1] === database) continue;
        seconds += cpuSecondsOf(Number(entry)) ?? 0;
      } catch {
        // ended meanwhile
      }
    }
    return seconds;
  };
  const [machineBefore, othersBefore, startedAt] = [machine(), otherBackends(), performance.now()];
  /** Percent of one core used by anything else, given the CPU percent of everything measured. */
  return (measured: Record<string, { cpuPercent: number }>) => {
    const wall = (performance.now() - startedAt) / 1000;
    const known = Object.values(measured).reduce((sum, entry) => sum + entry.cpuPercent, 0);
    const machinePercent = ((machine() - machineBefore) / wall) * 100;
    const otherDatabases = ((otherBackends() - othersBefore) / wall) * 100;
    return Math.max(0, Math.round(machinePercent - known + otherDatabases));
  };
}
