import { ordersRepository } from '../../db/repositories/orders.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { isAccessTokenValid } from './access-token.js';
import { toOrderView, type OrderView } from './view.js';

const notFound = (id: string) => new DomainError('ORDER_NOT_FOUND', `Order ${id} does not exist or the token does not open it`);

export async function getOrderView(deps: Deps, id: string): Promise<OrderView> {
  const [found] = await ordersRepository.withSeats(deps.db, [id]);
  if (!found) throw notFound(id);
  return toOrderView(found.order, found.seats);
}

/** Without the order's access token an order does not exist, whoever asks. */
export async function getOrder(deps: Deps, id: string, token: string | undefined): Promise<OrderView> {
  if (!isAccessTokenValid(id, token, deps.config.ORDER_TOKEN_SECRET)) throw notFound(id);
  return getOrderView(deps, id);
}

export async function orderViews(deps: Deps, ids: string[]): Promise<OrderView[]> {
  const found = await ordersRepository.withSeats(deps.db, ids);
  return found.map(({ order, seats }) => toOrderView(order, seats));
}

/** Tells everyone listening (waiting POSTs, pollers' caches, realtime) the orders' current state. */
export async function publishOrderUpdates(deps: Deps, ids: string[]): Promise<void> {
  if (ids.length > 0) await deps.orderUpdates.publish(await orderViews(deps, ids));
}
