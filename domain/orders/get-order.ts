import { ordersRepository } from '../../db/repositories/orders.js';
import type { SeatDelta } from '../../db/repositories/seat-versions.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { isAccessTokenValid } from './access-token.js';
import { toOrderView, type OrderView } from './view.js';

export const orderNotFound = (id: string) =>
  new DomainError('ORDER_NOT_FOUND', `Order ${id} does not exist or the token does not open it`);

/** Without the order's access token an order does not exist, whoever asks. */
export function checkOrderAccess(deps: Deps, id: string, token: string | undefined): void {
  if (!isAccessTokenValid(id, token, deps.config.ORDER_TOKEN_SECRET)) throw orderNotFound(id);
}

export async function getOrderView(deps: Deps, id: string): Promise<OrderView> {
  const [found] = await ordersRepository.withSeats(deps.db, [id]);
  if (!found) throw orderNotFound(id);
  return toOrderView(found.order, found.seats);
}

export async function getOrder(deps: Deps, id: string, token: string | undefined): Promise<OrderView> {
  checkOrderAccess(deps, id, token);
  return getOrderView(deps, id);
}

export async function orderViews(deps: Deps, ids: string[]): Promise<OrderView[]> {
  const found = await ordersRepository.withSeats(deps.db, ids);
  return found.map(({ order, seats }) => toOrderView(order, seats));
}

/** Tells everyone listening (waiting POSTs, realtime) the orders' current state and the seats that changed with them. */
export async function publishOrderUpdates(deps: Deps, ids: string[], seats: SeatDelta[] = []): Promise<OrderView[]> {
  const views = ids.length > 0 ? await orderViews(deps, ids) : [];
  await deps.orderUpdates.publish(views, seats);
  return views;
}
