import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import type { OrderView } from '../model/orders.js';
import { isAccessTokenValid } from './access-token.js';

export const orderNotFound = (id: string) =>
  new DomainError('ORDER_NOT_FOUND', `Order ${id} does not exist or the token does not open it`);

/** Without the order's access token an order does not exist, whoever asks. */
export function checkOrderAccess(deps: Deps, id: string, token: string | undefined): void {
  if (!isAccessTokenValid(id, token, deps.config.ORDER_TOKEN_SECRET)) throw orderNotFound(id);
}

/** The order as it is now, read through this process's order views (exact, see order-view-reads.ts). */
export async function getOrderView(deps: Deps, id: string): Promise<OrderView> {
  const view = await deps.orderViews.read(id);
  if (!view) throw orderNotFound(id);
  return view;
}

export async function getOrder(deps: Deps, id: string, token: string | undefined): Promise<OrderView> {
  checkOrderAccess(deps, id, token);
  return getOrderView(deps, id);
}

/**
 * The order for a subscriber: the newest view this process has heard of (every change is published
 * after its commit, and the intake publishes each order as it queues it), read from the database
 * only when it has heard none. The subscription registered first, so a later change still reaches it.
 */
export async function getOrderForSubscriber(deps: Deps, id: string, token: string | undefined): Promise<OrderView> {
  checkOrderAccess(deps, id, token);
  return (await deps.orderViews.heard(id)) ?? getOrderView(deps, id);
}
