import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, openSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type Managed = {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Settles when the process has exited (never rejects). */
  exited: Promise<Exit>;
  exit?: Exit;
};

export type SpawnSpec = {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /** Also echo each output line to the console, prefixed with the process's name. */
  echo?: (line: string) => void;
};

/**
 * Starts a process in a process group of its own, its stdout and stderr appended to `logFile`.
 * Its own group: a Ctrl-C in the terminal reaches only the topology, which stops everything in
 * order, and a stuck process is killed with whatever it started (nginx's workers).
 */
export async function spawnLogged(spec: SpawnSpec): Promise<Managed> {
  const base = { cwd: spec.cwd, env: spec.env, detached: true } as const;
  let child: ChildProcess;
  if (spec.echo) {
    child = spawn(spec.command, spec.args, { ...base, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(spec.logFile, { flags: 'a' });
    const echo = spec.echo;
    const pipes = [child.stdout!, child.stderr!].map((stream) => {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        file.write(`${line}\n`);
        echo(`[${spec.name}] ${line}`);
      });
      return once(lines, 'close');
    });
    void Promise.all(pipes).then(() => file.end());
  } else {
    // The child writes to the file itself: its log does not depend on this process keeping up.
    const fd = openSync(spec.logFile, 'a');
    try {
      child = spawn(spec.command, spec.args, { ...base, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  }
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // A command that cannot be started at all (ENOENT) reports here rather than by 'exit'.
  const [spawned] = await Promise.race([
    once(child, 'spawn').then(() => ['spawned'] as const),
    once(child, 'error').then(([error]) => [error as Error] as const),
  ]);
  if (spawned !== 'spawned') throw new Error(`${spec.name}: cannot start ${spec.command}: ${spawned.message}`);
  const managed: Managed = { name: spec.name, child, pid: child.pid!, logFile: spec.logFile, exited };
  void exited.then((exit) => (managed.exit = exit));
  return managed;
}

export const isRunning = (managed: Managed) => managed.exit === undefined;

/** SIGKILL to a process group (its leader's pid); a group already gone is fine. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in it.
  }
}

const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

/**
 * Sends `signal` (to the process alone: it stops its own children in order) and waits; past the
 * deadline the whole group gets SIGKILL. Resolves with how the process ended and whether it was killed.
 */
export async function stopProcess(
  managed: Managed,
  deadlineMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ exit: Exit; killed: boolean }> {
  if (!isRunning(managed)) return { exit: await managed.exited, killed: false };
  try {
    process.kill(managed.pid, signal);
  } catch {
    // already gone
  }
  const first = await Promise.race([managed.exited, timeout(deadlineMs)]);
  if (first !== 'timeout') {
    // Its group may still hold processes it did not stop (nginx's workers after their master crashed).
    killGroup(managed.pid);
    return { exit: first, killed: false };
  }
  killGroup(managed.pid);
  return { exit: await managed.exited, killed: true };
}

/** The last `count` lines of a log file, for an error message. */
export async function lastLines(file: string, count = 20): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return '(no log)';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter(Boolean).slice(-count);
    return lines.length === 0 ? '(empty log)' : lines.map((line) => `    ${line}`).join('\n');
  } finally {
    await handle.close();
  }
}
