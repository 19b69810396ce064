-- Copy of shared/baseline/schema.sql, created in its own schema (bench_baseline) of the bench database.
create table if not exists orders(id bigserial primary key, showing_id int not null, status text not null, created_at timestamptz default now());
create table if not exists tickets(id bigserial primary key, order_id bigint not null references orders(id), showing_id int not null, seat_id int not null, status text not null default 'sold');
create unique index if not exists tickets_active on tickets(showing_id, seat_id) where status <> 'cancelled';
