import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { LiveSeatMap, snapshotOf, type SeatMapBody, type SeatsUpdate } from '../../realtime/live-seat-map.js';
import { pick } from '../clients.js';

/**
 * The artillery processor of the soak's buyers (buyers.yml): what artillery's HTTP engine cannot do
 * alone. Each virtual user keeps one Socket.IO connection (websocket, through nginx) from arrival to
 * departure, so the concurrency is connected users; it keeps a live seat map of the showing it
 * looks at, picks free seats from it, and hears its order's decision pushed (`order:subscribe`, then
 * `order:update`), polling only when no push came. It runs in artillery's worker thread, from dist/.
 */

/** The figures the processor adds to artillery's; the scenario's `ensure` and the runner read them. */
export const METRICS = {
  /** Every HTTP request and every Socket.IO exchange a user waited for... */
  operations: 'cinema.operations',
  /** ...and those that failed: no answer, a 5xx, a status the route never gives, no push, no acknowledgement. */
  failures: 'cinema.failures',
  /** The submit sent → the decision received over Socket.IO (in the subscription's answer or an order:update). */
  submitToPush: 'cinema.submit_to_push',
  /** POST /payment sent → the payment's outcome received over Socket.IO. */
  paymentToPush: 'cinema.payment_to_push',
  /** A decision that did not come over Socket.IO in time: the user polled for it. */
  pushMissed: 'cinema.push_missed',
  paymentPushLate: 'cinema.payment_push_late',
  seatMapRepair: 'cinema.seat_map_repair',
  connected: 'cinema.users.connected',
  reconnected: 'cinema.users.reconnected',
  left: 'cinema.users.left',
  ordersAccepted: 'cinema.orders.accepted',
  ordersRefused: 'cinema.orders.refused_seat_taken',
  held: 'cinema.decisions.held',
  rejected: 'cinema.decisions.rejected',
  paid: 'cinema.outcomes.confirmed',
  paymentFailed: 'cinema.outcomes.payment_failed',
  cancelled: 'cinema.outcomes.cancelled',
  leftToExpire: 'cinema.outcomes.left_to_expire',
  noSeats: 'cinema.no_free_seats',
} as const;

/** The scenario's named requests (metrics-by-endpoint reports each apart), with the statuses each may answer. */
export const ROUTES = {
  schedule: [200],
  seat_map: [200],
  // 409: a seat was taken between the user's map and the submit (SEAT_TAKEN), refused at once.
  order: [200, 202, 409],
  order_status: [200],
  payment: [200],
  cancel: [200],
} as const satisfies Record<string, readonly number[]>;
export type RouteName = keyof typeof ROUTES;

/** Artillery's variables of a run (`config.variables`, set by the runner through --overrides). */
export type SoakVariables = {
  /** JSON file: [{ cityId, date }] with showings on sale, written by the runner after seeding. */
  catalogFile: string;
  /** Accepted order ids, one a line, for the database checks after the run. */
  ordersFile: string;
  /**
   * Artillery's arrivals take this long; each user then waits for its place in the ramp, the same
   * share of `rampSeconds` as its arrival had of this. Artillery times arrivals less than 25 ms apart
   * by spinning on setImmediate, a whole core for as long as they last: 10,000 users over a 3-minute
   * ramp (18 ms apart) would take one of the machine's two cores from the system under test.
   */
  arrivalSeconds: number;
  rampSeconds: number;
  holdSeconds: number;
  rampDownSeconds: number;
  /** Think times × this (1: people; less in the short CI run). */
  pace: number;
};

type Vars = SoakVariables & Record<string, unknown> & { $uuid: string; target: string };
type Context = { vars: Vars };
type Events = { emit(type: 'counter' | 'histogram', name: string, value: number): void };
type Done = (error?: Error) => void;
type RequestParams = { name?: string; url: string };
type Response = { statusCode: number; body: unknown };

/** How long a decision or a payment outcome may take to be pushed before the user polls (or gives up waiting). */
const PUSH_WAIT_MS = 10_000;
const ACK_TIMEOUT_MS = 5_000;
/** Showings starting sooner cannot be cancelled (CANCELLATION_CUTOFF_MINUTES, 60) and leave sale while users buy. */
export const BUYABLE_AHEAD_MS = 2 * 3_600_000;
/** Seats per order: mostly couples. */
const PARTY_SIZES = [1, 2, 2, 2, 2, 3, 3, 4];
/** What a user does with held seats: pay (most), cancel, or walk away and let the hold expire. */
const PAY_SHARE = 0.6;
const CANCEL_SHARE = 0.2;
const DECIDED = (status: string) => status !== 'queued';
const PAYMENT_SETTLED = (status: string) => status !== 'awaiting_payment';

type OrderView = { id: string; status: string; version: number };
type Waiter = { until: (order: OrderView) => boolean; resolve: (order: OrderView | undefined) => void };
type Buyer = {
  socket: Socket;
  leaveAt: number;
  showing?: { id: number; map: LiveSeatMap };
  order?: OrderView & { token: string; submittedAt: number };
  waiters: Waiter[];
  choice?: 'pay' | 'cancel' | 'expire';
  /** Counted among the connected users (and so, on leaving, among those who left). */
  counted?: boolean;
};

const buyers = new Map<string, Buyer>();
/** The first arrival in this worker: the ramp's start, from which every user's place and departure are counted. */
let rampStartedAt: number | undefined;
let catalog: { cityId: number; date: string }[] | undefined;

const buyerOf = (context: Context) => buyers.get(context.vars.$uuid);
const randomBetween = (low: number, high: number) => low + Math.random() * (high - low);
/** A think time as artillery's `think` reads it ("7500ms"), scaled by the run's pace. */
const thinkTime = (context: Context, lowSeconds: number, highSeconds: number) =>
  `${Math.round(randomBetween(lowSeconds, highSeconds) * 1000 * context.vars.pace)}ms`;

function count(events: Events, name: string, value = 1) {
  events.emit('counter', name, value);
}

/** One operation a user waited for, and whether it went wrong. */
function operation(events: Events, failed: boolean, what?: string) {
  count(events, METRICS.operations);
  if (failed) {
    count(events, METRICS.failures);
    if (what) count(events, `cinema.failed.${what}`);
  }
}

function heard(buyer: Buyer, view: OrderView) {
  if (!buyer.order || view.id !== buyer.order.id || view.version <= buyer.order.version) return;
  Object.assign(buyer.order, { status: view.status, version: view.version });
  buyer.waiters = buyer.waiters.filter((waiter) => {
    if (!waiter.until(buyer.order!)) return true;
    waiter.resolve(buyer.order);
    return false;
  });
}

/** The order once `until` holds for it, from what the socket heard; undefined after `ms`. */
function orderWhen(buyer: Buyer, until: (order: OrderView) => boolean, ms: number): Promise<OrderView | undefined> {
  if (buyer.order && until(buyer.order)) return Promise.resolve(buyer.order);
  return new Promise((resolve) => {
    const waiter: Waiter = { until, resolve };
    buyer.waiters.push(waiter);
    setTimeout(() => {
      buyer.waiters = buyer.waiters.filter((candidate) => candidate !== waiter);
      resolve(undefined);
    }, ms).unref();
  });
}

async function subscribeShowing(buyer: Buyer, events: Events) {
  const showing = buyer.showing;
  if (!showing) return;
  const answer = await buyer.socket
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck('showing:subscribe', { showingId: showing.id })
    .catch(() => undefined);
  operation(events, !answer?.ok, 'showing_subscribe');
  if (answer?.ok) await showing.map.resume(answer.version);
}

async function subscribeOrder(buyer: Buyer, events: Events) {
  const order = buyer.order;
  if (!order) return;
  const answer = await buyer.socket
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck('order:subscribe', { orderId: order.id, token: order.token })
    .catch(() => undefined);
  operation(events, !answer?.ok, 'order_subscribe');
  if (answer?.ok) heard(buyer, answer.order);
}

/** Arrival: the user's connection, open until departure; departure after the hold, spread over the ramp-down. */
async function arrive(context: Context, events: Events) {
  const { target, arrivalSeconds, rampSeconds, holdSeconds, rampDownSeconds } = context.vars;
  rampStartedAt ??= Date.now();
  const place = rampStartedAt + ((Date.now() - rampStartedAt) * rampSeconds) / arrivalSeconds;
  await new Promise((resolve) => setTimeout(resolve, place - Date.now()));
  for (const name of [METRICS.operations, METRICS.failures]) count(events, name, 0);
  const socket = io(target, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
  });
  const buyer: Buyer = {
    socket,
    leaveAt: rampStartedAt + (rampSeconds + holdSeconds + Math.random() * rampDownSeconds) * 1000,
    waiters: [],
  };
  buyers.set(context.vars.$uuid, buyer);
  socket.on('seats:update', (delta: SeatsUpdate) => {
    if (delta.showingId === buyer.showing?.id) buyer.showing.map.apply(delta);
  });
  socket.on('order:update', (view: OrderView) => heard(buyer, view));
  let connections = 0;
  // Subscriptions belong to a connection: after a reconnect the user subscribes again.
  socket.on('connect', () => {
    connections += 1;
    if (connections === 1) return;
    count(events, METRICS.reconnected);
    void subscribeShowing(buyer, events);
    void subscribeOrder(buyer, events);
  });
  const connected = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ACK_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  operation(events, !connected, 'connect');
  if (connected) count(events, METRICS.connected);
  buyer.counted = connected;
}

/** The loop's condition (`whileTrue`): the user stays until its departure time. */
function staying(context: Context, next: (stay: boolean) => void) {
  next(Date.now() < (buyerOf(context)?.leaveAt ?? 0));
}

async function chooseCityAndDate(context: Context) {
  catalog ??= JSON.parse(readFileSync(context.vars.catalogFile, 'utf8')) as { cityId: number; date: string }[];
  Object.assign(context.vars, pick(catalog), {
    browseThink: thinkTime(context, 10, 30),
    seatsThink: thinkTime(context, 20, 40),
    decisionThink: thinkTime(context, 10, 20),
    afterThink: thinkTime(context, 20, 40),
  });
}

/** Every answer: counted, and a failure unless the route gives that status. */
function checkResponse(request: RequestParams, response: Response, _context: Context, events: Events, done: Done) {
  const expected: readonly number[] | undefined = ROUTES[request.name as RouteName];
  const failed = !expected?.includes(response.statusCode);
  operation(events, failed, failed ? `${request.name}.${response.statusCode}` : undefined);
  done();
}

/** No answer at all (timeout, reset): a failure, and artillery ends this user, so its connection closes here. */
function requestFailed(
  error: Error & { code?: string },
  request: RequestParams,
  context: Context,
  events: Events,
  done: Done,
) {
  operation(events, true, `${request.name}.${error.code ?? error.name}`);
  void leave(context, events);
  done();
}

const body = <T>(response: Response) => JSON.parse(String(response.body)) as T;

type Schedule = { cinemas: { films: { showings: { showingId: number; startsAt: string; freeSeats: number }[] }[] }[] };

async function chooseShowing(_request: RequestParams, response: Response, context: Context) {
  context.vars.showingId = undefined;
  if (response.statusCode !== 200) return;
  const buyable = body<Schedule>(response)
    .cinemas.flatMap((cinema) => cinema.films.flatMap((film) => film.showings))
    .filter((showing) => showing.freeSeats > 0 && Date.parse(showing.startsAt) > Date.now() + BUYABLE_AHEAD_MS);
  if (buyable.length > 0) context.vars.showingId = pick(buyable).showingId;
}

const hasShowing = (vars: Vars) => vars.showingId !== undefined;

/** The seat map just read becomes the user's live map: deltas from the showing's room keep it current. */
async function watchShowing(_request: RequestParams, response: Response, context: Context, events: Events) {
  const buyer = buyerOf(context);
  if (!buyer || response.statusCode !== 200) return;
  const showingId = context.vars.showingId as number;
  let first: ReturnType<typeof snapshotOf> | undefined = snapshotOf(body<SeatMapBody>(response));
  const map = new LiveSeatMap(async () => {
    if (first) {
      const snapshot = first;
      first = undefined;
      return snapshot;
    }
    return repairSnapshot(context.vars.target, showingId, events);
  });
  await map.repair();
  buyer.showing = { id: showingId, map };
  await subscribeShowing(buyer, events);
}

/** A gap in the deltas: the map is read again (outside artillery's requests, so timed here). */
async function repairSnapshot(target: string, showingId: number, events: Events) {
  const started = performance.now();
  try {
    const response = await fetch(`${target}/api/v1/showings/${showingId}/seats`, {
      signal: AbortSignal.timeout(10_000),
    });
    const failed = response.status !== 200;
    operation(events, failed, failed ? `seat_map_repair.${response.status}` : undefined);
    if (failed) throw new Error(`seat map ${response.status}`);
    const snapshot = snapshotOf((await response.json()) as SeatMapBody);
    events.emit('histogram', METRICS.seatMapRepair, performance.now() - started);
    return snapshot;
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('seat map'))) operation(events, true, 'seat_map_repair');
    throw error;
  }
}

/** A party's seats side by side where the live map shows them free (consecutive ids run along a row). */
async function chooseSeats(context: Context, events: Events) {
  context.vars.seatIds = undefined;
  const map = buyerOf(context)?.showing?.map;
  if (!map) return;
  const free = [...map.seats].filter(([, status]) => status === 'free').map(([id]) => id);
  if (free.length === 0) {
    count(events, METRICS.noSeats);
    return;
  }
  const freeSet = new Set(free);
  const first = pick(free);
  const seatIds = [first];
  const size = pick(PARTY_SIZES);
  while (seatIds.length < size && freeSet.has(seatIds.at(-1)! + 1)) seatIds.push(seatIds.at(-1)! + 1);
  Object.assign(context.vars, {
    seatIds,
    idempotencyKey: randomUUID(),
    email: `buyer-${context.vars.$uuid.slice(0, 8)}@example.com`,
  });
}

const hasSeats = (vars: Vars) => Array.isArray(vars.seatIds);

function submitting(_request: RequestParams, context: Context, _events: Events, done: Done) {
  context.vars.submittedAt = performance.now();
  done();
}

type PlacedOrder = OrderView & { accessToken: string };

async function orderAnswered(_request: RequestParams, response: Response, context: Context, events: Events) {
  const buyer = buyerOf(context);
  if (!buyer) return;
  buyer.order = undefined;
  if (response.statusCode === 409) count(events, METRICS.ordersRefused);
  if (response.statusCode !== 200 && response.statusCode !== 202) return;
  const placed = body<PlacedOrder>(response);
  count(events, METRICS.ordersAccepted);
  appendFileSync(context.vars.ordersFile, `${placed.id}\n`);
  buyer.order = {
    id: placed.id,
    status: placed.status,
    version: placed.version,
    token: placed.accessToken,
    submittedAt: context.vars.submittedAt as number,
  };
  context.vars.orderId = placed.id;
  context.vars.accessToken = placed.accessToken;
}

/**
 * The decision over Socket.IO: the subscription answers the order as it is (decided already, or not)
 * and every later version comes as order:update. No push in time: the user polls (`polls` rounds).
 */
async function awaitDecision(context: Context, events: Events) {
  context.vars.polls = 0;
  const buyer = buyerOf(context);
  const order = buyer?.order;
  if (!buyer || !order) return;
  await subscribeOrder(buyer, events);
  const decided = await orderWhen(buyer, (view) => DECIDED(view.status), PUSH_WAIT_MS);
  operation(events, !decided, 'decision_push');
  if (!decided) {
    count(events, METRICS.pushMissed);
    context.vars.orderStatus = order.status;
    context.vars.polls = 10;
    return;
  }
  events.emit('histogram', METRICS.submitToPush, performance.now() - order.submittedAt);
  count(events, decided.status === 'awaiting_payment' ? METRICS.held : METRICS.rejected);
}

const hasOrder = (vars: Vars) => typeof vars.orderId === 'string';
const undecided = (vars: Vars) => hasOrder(vars) && vars.orderStatus === 'queued';

/** A poll's answer (the fallback, and the order page every buyer opens), folded into what the user knows. */
async function orderRead(_request: RequestParams, response: Response, context: Context) {
  const buyer = buyerOf(context);
  if (!buyer || response.statusCode !== 200) return;
  heard(buyer, body<OrderView>(response));
  context.vars.orderStatus = buyer.order?.status;
}

async function pollPause(context: Context) {
  context.vars.orderStatus = buyerOf(context)?.order?.status;
  if (context.vars.orderStatus === 'queued') await new Promise((resolve) => setTimeout(resolve, 1_000));
}

/** With held seats: pay, cancel, or walk away and let the hold expire. */
async function chooseWhatNext(context: Context, events: Events) {
  const buyer = buyerOf(context);
  const held = buyer?.order?.status === 'awaiting_payment';
  const roll = Math.random();
  const choice = !held ? undefined : roll < PAY_SHARE ? 'pay' : roll < PAY_SHARE + CANCEL_SHARE ? 'cancel' : 'expire';
  if (buyer) buyer.choice = choice;
  context.vars.orderStatus = buyer?.order?.status;
  if (choice === 'expire') count(events, METRICS.leftToExpire);
}

const paying = (vars: Vars) => buyers.get(vars.$uuid)?.choice === 'pay';
const cancelling = (vars: Vars) => buyers.get(vars.$uuid)?.choice === 'cancel';

function payingNow(_request: RequestParams, context: Context, _events: Events, done: Done) {
  context.vars.paymentSentAt = performance.now();
  done();
}

/** The payment's outcome (confirmed, or payment_failed) pushed over Socket.IO. */
async function awaitPayment(context: Context, events: Events) {
  const buyer = buyerOf(context);
  if (!buyer?.order || buyer.choice !== 'pay') return;
  const settled = await orderWhen(buyer, (view) => PAYMENT_SETTLED(view.status), PUSH_WAIT_MS);
  if (!settled) {
    count(events, METRICS.paymentPushLate);
    return;
  }
  events.emit('histogram', METRICS.paymentToPush, performance.now() - (context.vars.paymentSentAt as number));
  count(events, settled.status === 'confirmed' ? METRICS.paid : METRICS.paymentFailed);
}

async function cancelAnswered(_request: RequestParams, response: Response, context: Context, events: Events) {
  if (response.statusCode !== 200) return;
  const buyer = buyerOf(context);
  if (buyer) heard(buyer, body<OrderView>(response));
  count(events, METRICS.cancelled);
}

/** The end of one visit: the user stops watching the showing and its order (the connection stays). */
async function finishVisit(context: Context) {
  const buyer = buyerOf(context);
  if (!buyer) return;
  if (buyer.showing) buyer.socket.emit('showing:unsubscribe', { showingId: buyer.showing.id });
  if (buyer.order) buyer.socket.emit('order:unsubscribe', { orderId: buyer.order.id });
  buyer.showing = undefined;
  buyer.order = undefined;
  buyer.choice = undefined;
  for (const name of ['showingId', 'seatIds', 'orderId', 'accessToken', 'orderStatus', 'polls']) {
    context.vars[name] = undefined;
  }
}

async function leave(context: Context, events: Events) {
  const buyer = buyerOf(context);
  if (!buyer) return;
  buyers.delete(context.vars.$uuid);
  for (const waiter of buyer.waiters) waiter.resolve(undefined);
  if (buyer.counted) count(events, METRICS.left);
  buyer.socket.close();
}

/**
 * What `require` returns for this ES module (Node ≥ 20.19), as artillery loads a .js processor: a plain
 * object, to which artillery's plugins (metrics-by-endpoint) add their hooks (the module's namespace
 * would take none). The functions by the names buyers.yml gives, and the constants too, for the
 * runner when a CommonJS loader compiles it (tsx under mocha), which also returns this object.
 */
const hooks = {
  METRICS,
  ROUTES,
  BUYABLE_AHEAD_MS,
  arrive,
  staying,
  chooseCityAndDate,
  checkResponse,
  requestFailed,
  chooseShowing,
  hasShowing,
  watchShowing,
  chooseSeats,
  hasSeats,
  submitting,
  orderAnswered,
  awaitDecision,
  hasOrder,
  undecided,
  orderRead,
  pollPause,
  chooseWhatNext,
  paying,
  cancelling,
  payingNow,
  awaitPayment,
  cancelAnswered,
  finishVisit,
  leave,
};
export { hooks as 'module.exports' };
