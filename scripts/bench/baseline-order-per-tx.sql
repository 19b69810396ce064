-- Copy of shared/baseline/order-per-tx.sql: one durable transaction per order, the reference rate.
\set sh random(1, 1000000)
\set s random(1, 200)
BEGIN;
INSERT INTO orders(showing_id, status) VALUES (:sh, 'pending') RETURNING id \gset
INSERT INTO tickets(order_id, showing_id, seat_id) VALUES (:id, :sh, :s), (:id, :sh, :s + 1000) ON CONFLICT DO NOTHING;
UPDATE orders SET status = 'confirmed' WHERE id = :id;
COMMIT;
