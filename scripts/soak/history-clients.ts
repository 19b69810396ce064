import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { SeatMapBody, SeatsUpdate } from '../realtime/live-seat-map.js';
import { pick, send, sleep, watch } from './clients.js';
import type { Answer, History, HttpOperation, Invocation, OrderSeen } from './history.js';

/** Each buyer's own card, as in life: the payment breaker counts cards, and one shared card would hide an outage. */
const cardToken = () => `tok_chaos_${randomUUID().slice(0, 8)}`;

/**
 * The chaos run's clients, every operation recorded in the history: buyers (seat map → order →
 * decision over Socket.IO and by polling → pay, cancel or let the hold expire) and watchers (a live
 * seat map over Socket.IO, its repairs read over REST).
 */

/** An order's JSON as the API answers it: what a client sees, its access token, or an error. */
type OrderBody = OrderSeen & { accessToken?: string; error?: { code: string } };

const seen = (order: OrderBody): OrderSeen => ({
  id: order.id,
  status: order.status,
  version: order.version,
  showingId: order.showingId,
  seats: order.seats.map((seat) => ({ seatId: seat.seatId, ticketStatus: seat.ticketStatus })),
  paymentStatus: order.paymentStatus,
});

const FINAL = new Set(['confirmed', 'rejected', 'expired', 'payment_failed', 'cancelled', 'refunded']);
/** Nothing more will happen to it soon: decided for good, or held without a payment under way. */
const settled = (order: OrderSeen) =>
  FINAL.has(order.status) || (order.status === 'awaiting_payment' && order.paymentStatus === null);

/**
 * One HTTP request recorded as an operation: `ok` for 2xx, `fail` for a refusal (4xx: it did not
 * happen), `info` for no answer or a 5xx after the client's retries. A refusal after a retried
 * attempt is `info` where the retry may have met the first attempt's effect (a second cancel is
 * refused because the first, unanswered, went through).
 */
async function recorded<F extends HttpOperation>(
  history: History,
  client: string,
  f: F,
  invocation: Invocation[F],
  request: { entry: string; path: string; init?: RequestInit; refusalAfterRetryUnknown?: boolean },
): Promise<{ status?: number; body?: unknown }> {
  const operation = history.invoke(client, f, invocation);
  const { response, attempts } = await send(request.entry, f, request.path, request.init);
  if (!response) {
    operation.info({ attempts });
    return {};
  }
  const body = (await response.json().catch(() => undefined)) as (OrderBody & SeatMapBody) | undefined;
  const answer: Answer = { http: response.status, attempts };
  if (response.status >= 500) operation.info(answer);
  else if (response.status >= 400) {
    answer.code = body?.error?.code;
    if (request.refusalAfterRetryUnknown && attempts > 1) operation.info(answer);
    else operation.fail(answer);
  } else {
    if (f === 'seat-map') answer.version = body?.version;
    else if (body?.id) answer.order = seen(body);
    operation.ok(answer);
  }
  return { status: response.status, body };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export type BuyerPlan = {
  entry: string;
  showings: { id: number; seatIds: number[] }[];
  history: History;
  name: string;
  running: () => boolean;
  /** Share of orders placed without a card (paid later, cancelled or left to expire). */
  payLaterShare: number;
  /** Share of card orders cancelled by the buyer soon after. */
  cancelShare: number;
  /** Share of orders for the showing's first seats, taken or not. */
  contendedShare: number;
  /** Pause between one order's end and the next seat map. */
  thinkMs: number;
};

const CONTENDED_SEATS = 6;

/** A buyer in a loop until `running()` is false; resolves when its last operation completed. */
export async function historyBuyer(plan: BuyerPlan): Promise<void> {
  const { entry, history, name } = plan;
  /** Orders not settled yet, with their access tokens: subscribed again after a reconnect. */
  const open = new Map<string, string>();
  const latest = new Map<string, OrderSeen>();
  const remember = (order: OrderSeen) => {
    if ((latest.get(order.id)?.version ?? -1) < order.version) latest.set(order.id, order);
  };
  const socket: Socket = io(entry, { transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 2_000 });
  socket.on('order:update', (order: OrderBody) => {
    history.heard(name, 'order-push', { orderId: order.id }, { order: seen(order) });
    remember(seen(order));
  });
  const subscribe = async (orderId: string, token: string) => {
    const operation = history.invoke(name, 'subscribe', { orderId });
    const ack = (await socket
      .timeout(5_000)
      .emitWithAck('order:subscribe', { orderId, token })
      .catch(() => undefined)) as { ok: boolean; order?: OrderBody; error?: { code: string } } | undefined;
    if (!ack) operation.info({});
    else if (!ack.ok) operation.fail({ code: ack.error?.code });
    else {
      operation.ok({ order: seen(ack.order!) });
      remember(seen(ack.order!));
    }
  };
  // Resubscriptions after a reconnect run beside the loop; the buyer ends once they completed.
  const resubscribing = new Set<Promise<void>>();
  socket.on('connect', () => {
    for (const [orderId, token] of open) {
      const done = subscribe(orderId, token).finally(() => resubscribing.delete(done));
      resubscribing.add(done);
    }
  });

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const read = async (orderId: string, token: string) => {
    const { body, status } = await recorded(
      history,
      name,
      'read',
      { orderId },
      { entry, path: `/api/v1/orders/${orderId}`, init: { headers: auth(token) } },
    );
    if (status === 200) remember(seen(body as OrderBody));
  };

  try {
    while (plan.running()) {
      const showing = pick(plan.showings);
      const map = await recorded(
        history,
        name,
        'seat-map',
        { showingId: showing.id },
        { entry, path: `/api/v1/showings/${showing.id}/seats` },
      );
      const free = (map.body as SeatMapBody | undefined)?.rows
        .flatMap((row) => row.seats)
        .filter((seat) => seat.status === 'free')
        .map((seat) => seat.id);
      if (!free || free.length === 0) {
        await sleep(200);
        continue;
      }
      // Some orders go for the showing's first seats whatever the map shows, as buyers racing for the
      // best seats would: refusals at the intake and in the queue, where first come, first served is tested.
      const candidates = Math.random() < plan.contendedShare ? showing.seatIds.slice(0, CONTENDED_SEATS) : free;
      const seatIds = [...new Set([pick(candidates), pick(candidates)])].slice(0, 1 + Math.floor(Math.random() * 2));
      const card = Math.random() >= plan.payLaterShare ? cardToken() : null;
      const key = randomUUID();
      const email = `${name}-${key.slice(0, 8)}@example.com`;
      const submit = await recorded(
        history,
        name,
        'submit',
        { key, email, showingId: showing.id, seatIds, token: card },
        {
          entry,
          path: '/api/v1/orders',
          init: json(
            {
              showingId: showing.id,
              seatIds,
              customer: { email },
              ...(card && { payment: { token: card } }),
            },
            { 'idempotency-key': key, prefer: 'wait=5' },
          ),
        },
      );
      const placed = submit.status === 200 || submit.status === 202 ? (submit.body as OrderBody) : undefined;
      if (placed?.accessToken) await follow(placed, placed.accessToken, card !== null);
      await sleep(plan.thinkMs);
    }
  } finally {
    open.clear();
    await Promise.all(resubscribing);
    socket.close();
  }

  /** After an accepted submit: hear the decision, then pay, cancel or leave the hold, and poll until it settles. */
  async function follow(placed: OrderBody, token: string, paidByCard: boolean) {
    const orderId = placed.id;
    remember(seen(placed));
    open.set(orderId, token);
    if (socket.connected) await subscribe(orderId, token);
    const choice = Math.random();
    const act = async (what: 'pay' | 'cancel') => {
      await sleep(200 + Math.random() * 800);
      const path = `/api/v1/orders/${orderId}/${what === 'pay' ? 'payment' : 'cancel'}`;
      const token = cardToken();
      const invocation = what === 'pay' ? { orderId, token } : { orderId };
      const body = what === 'pay' ? { token } : {};
      const { status, body: answer } = await recorded(history, name, what, invocation, {
        entry,
        path,
        init: json(body, auth(token)),
        refusalAfterRetryUnknown: true,
      });
      if (status === 200) remember(seen(answer as OrderBody));
    };
    const held = () => latest.get(orderId)?.status === 'awaiting_payment';
    // Pay-later orders are decided before acting on them: a payment or a cancel needs the seats held.
    if (!paidByCard) {
      for (let poll = 0; poll < 10 && latest.get(orderId)?.status === 'queued'; poll += 1) {
        await sleep(500);
        await read(orderId, token);
      }
      if (held() && choice < 0.6) await act('pay');
      else if (held() && choice < 0.8) await act('cancel');
    } else if (choice < plan.cancelShare) await act('cancel');
    for (let poll = 0; poll < 10 && !settled(latest.get(orderId)!); poll += 1) {
      await sleep(1_000);
      await read(orderId, token);
    }
    open.delete(orderId);
  }
}

export type WatcherPlan = { entry: string; showingId: number; history: History; name: string };

/** A watcher of one showing's seat map: every delta heard, and every REST read of a repair, recorded. */
export function historyWatcher({ entry, showingId, history, name }: WatcherPlan) {
  const watcher = watch(entry, showingId, async () => {
    const { status, body } = await recorded(
      history,
      name,
      'seat-map',
      { showingId },
      { entry, path: `/api/v1/showings/${showingId}/seats` },
    );
    if (status !== 200) throw new Error(`seat map: ${status}`);
    return body as SeatMapBody;
  });
  watcher.socket.on('seats:update', (delta: SeatsUpdate) =>
    history.heard(name, 'seats-push', { showingId }, { version: delta.version, seats: delta.seats }),
  );
  return watcher;
}
