import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';

/**
 * The history of a run, as Jepsen and Elle record one: every client operation is an `invoke` line
 * when it starts and one completion line when it ends, `ok` (it happened), `fail` (it certainly did
 * not) or `info` (nobody can tell: no answer, a 5xx, a timeout). One JSON object per line, appended
 * as the run goes, so a run that dies still leaves what it saw. A checker reads it back afterwards.
 */

/** What a client does over HTTP (the first five) or hears over Socket.IO. */
export const HTTP_OPERATIONS = ['seat-map', 'submit', 'read', 'pay', 'cancel'] as const;
export type HttpOperation = (typeof HTTP_OPERATIONS)[number];
export type OperationName = HttpOperation | 'subscribe' | 'order-push' | 'seats-push';
export type Completion = 'ok' | 'fail' | 'info';

/** An order as a client saw it in an answer or a push: what the checker compares with the database. */
export type OrderSeen = {
  id: string;
  status: string;
  version: number;
  showingId: number;
  seats: { seatId: number; ticketStatus: string | null }[];
  paymentStatus: string | null;
};

/** What each operation asked: the invoke's value. */
export type Invocation = {
  'seat-map': { showingId: number };
  submit: { key: string; email: string; showingId: number; seatIds: number[]; token: string | null };
  read: { orderId: string };
  pay: { orderId: string; token: string };
  cancel: { orderId: string };
  subscribe: { orderId: string };
  'order-push': { orderId: string };
  'seats-push': { showingId: number };
};

/** What came back: the completion's value. HTTP operations say the last status and how many attempts it took. */
export type Answer = {
  http?: number;
  attempts?: number;
  /** The error code of a refusal (SEAT_TAKEN, ORDER_NOT_PAYABLE...). */
  code?: string;
  order?: OrderSeen;
  /** A seat map's or a seat delta's version. */
  version?: number;
  seats?: { id: number; status: string }[];
};

export type HistoryEntry = {
  /** Pairs an invoke with its completion. */
  op: number;
  type: 'invoke' | Completion;
  f: OperationName;
  /** The client (buyer-3, watcher-12). */
  process: string;
  /** Milliseconds since the history began (monotonic). */
  time: number;
  /** Wall clock (ms since the epoch), to set beside the database's timestamps. */
  at: number;
  value: Invocation[OperationName] | Answer;
};

export type Operation = { [K in Completion]: (answer: Answer) => void };

export type History = {
  startedAt: number;
  /** Milliseconds since the history began. */
  now: () => number;
  invoke: <F extends OperationName>(process: string, f: F, value: Invocation[F]) => Operation;
  /** Something the client heard without asking (a push): an invoke and its `ok` at the same moment. */
  heard: <F extends 'order-push' | 'seats-push'>(process: string, f: F, value: Invocation[F], answer: Answer) => void;
  entries: () => number;
  /** How many operations of this kind were invoked so far. */
  invoked: (f: OperationName) => number;
  close: () => Promise<void>;
};

export function recordHistory(file: string): History {
  const out = createWriteStream(file, { flags: 'w' });
  const origin = performance.now();
  const startedAt = Date.now();
  let ops = 0;
  let lines = 0;
  const invocations = new Map<OperationName, number>();
  const now = () => performance.now() - origin;
  const write = (entry: Omit<HistoryEntry, 'time' | 'at'>) => {
    lines += 1;
    out.write(`${JSON.stringify({ ...entry, time: Math.round(now() * 10) / 10, at: Date.now() })}\n`);
  };
  const invoke: History['invoke'] = (process, f, value) => {
    const op = (ops += 1);
    invocations.set(f, (invocations.get(f) ?? 0) + 1);
    write({ op, type: 'invoke', f, process, value });
    let done = false;
    const complete = (type: Completion) => (answer: Answer) => {
      if (done) throw new Error(`operation ${op} (${f}) completed twice`);
      done = true;
      write({ op, type, f, process, value: answer });
    };
    return { ok: complete('ok'), fail: complete('fail'), info: complete('info') };
  };
  return {
    startedAt,
    now,
    invoke,
    heard: (process, f, value, answer) => invoke(process, f, value).ok(answer),
    entries: () => lines,
    invoked: (f) => invocations.get(f) ?? 0,
    close: async () => {
      out.end();
      await once(out, 'finish');
    },
  };
}

export async function readHistory(file: string): Promise<HistoryEntry[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HistoryEntry);
}

/** An operation with what it asked and, unless the run ended first, how it completed and what came back. */
export type PairedOperation<F extends OperationName = OperationName> = {
  op: number;
  f: F;
  process: string;
  invocation: Invocation[F];
  completion?: Completion;
  answer?: Answer;
  /** Milliseconds since the history began. */
  start: number;
  end?: number;
  /** Wall clock of the invoke (ms since the epoch). */
  startAt: number;
};

export function pairOperations(entries: HistoryEntry[]): PairedOperation[] {
  const byOp = new Map<number, PairedOperation>();
  for (const entry of entries) {
    if (entry.type === 'invoke') {
      byOp.set(entry.op, {
        op: entry.op,
        f: entry.f,
        process: entry.process,
        invocation: entry.value as Invocation[OperationName],
        start: entry.time,
        startAt: entry.at,
      });
      continue;
    }
    const paired = byOp.get(entry.op);
    if (!paired) throw new Error(`history: completion of operation ${entry.op} without its invoke`);
    Object.assign(paired, { completion: entry.type, answer: entry.value as Answer, end: entry.time });
  }
  return [...byOp.values()];
}

export const isOperation = <F extends OperationName>(
  operation: PairedOperation,
  f: F,
): operation is PairedOperation<F> => operation.f === f;
