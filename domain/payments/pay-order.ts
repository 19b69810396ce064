import { ordersRepository } from '../../db/repositories/orders.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import type { OrderView } from '../model/orders.js';
import { checkOrderAccess, getOrderView, orderNotFound } from '../orders/get-order.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import { requestCharges } from './payment-jobs.js';

/**
 * The buyer pays a held order (one placed without a card token). Sending the same token again while
 * its payment is under way is answered with the order as it stands; another token is refused.
 */
export async function payOrder(
  deps: Deps,
  orderId: string,
  accessToken: string | undefined,
  paymentToken: string,
): Promise<OrderView> {
  checkOrderAccess(deps, orderId, accessToken);
  if (await ordersRepository.attachPaymentToken(deps.db, orderId, paymentToken)) {
    await requestCharges(deps, [orderId]);
    const [view] = await publishOrderUpdates(deps, [orderId]);
    return view!;
  }
  const order = await ordersRepository.payable(deps.db, orderId);
  if (!order) throw orderNotFound(orderId);
  if (order.paymentToken === paymentToken) return getOrderView(deps, orderId);
  throw new DomainError(
    'ORDER_NOT_PAYABLE',
    order.status === 'awaiting_payment'
      ? 'A payment for this order is under way'
      : `An order that is ${order.status} cannot be paid`,
    { status: order.status, paymentStatus: order.paymentStatus },
  );
}
