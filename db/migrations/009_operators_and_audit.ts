import type { Knex } from 'knex';

const AUDITED_TABLES = ['operators', 'operator_keys', 'cities', 'cinemas', 'halls', 'films', 'showings', 'seat_blocks'];

/**
 * Operators own cinemas (and through them halls, showings and seat blocks); each has API keys,
 * stored as SHA-256 digests of their random secrets. A key whose `revoked_at` has passed is refused;
 * a rotation sets it in the future to leave a grace period.
 *
 * `audit_log` is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE. Rows come from the
 * `audit_write` trigger on every audited table, in the writing transaction itself (an audited
 * write and its record commit or vanish together). It records only when the transaction names its
 * actor in the `cinema.audit` setting (db/repositories/audit.ts): the workers' own updates of a
 * showing (its taken-seat count) are not management and stay out. `operator_id` is the operator
 * owning the object written, whoever wrote it, so that one filter shows all that happened to an
 * operator's cinemas.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE operators (
      id bigserial PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT operators_name_key UNIQUE (name)
    );

    CREATE TRIGGER operators_updated_at BEFORE UPDATE ON operators FOR EACH ROW EXECUTE FUNCTION set_updated_at();

    CREATE TABLE operator_keys (
      id bigserial PRIMARY KEY,
      operator_id bigint NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
      label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
      secret_hash bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz,
      replaced_by bigint REFERENCES operator_keys (id)
    );
    CREATE INDEX operator_keys_operator_idx ON operator_keys (operator_id, id);

    ALTER TABLE cinemas ADD COLUMN operator_id bigint REFERENCES operators (id) ON DELETE RESTRICT;
    CREATE INDEX cinemas_operator_idx ON cinemas (operator_id, id) WHERE operator_id IS NOT NULL;

    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor text NOT NULL,
      actor_operator_id bigint,
      actor_key_id bigint,
      request text,
      operator_id bigint,
      entity text NOT NULL,
      entity_id text NOT NULL,
      action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
      before jsonb,
      after jsonb
    );
    CREATE INDEX audit_log_operator_idx ON audit_log (operator_id, id) WHERE operator_id IS NOT NULL;
    CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

    CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

    -- The operator owning a row of an audited table (null: the platform's own, a city, a film).
    CREATE FUNCTION audit_owner(entity text, subject jsonb) RETURNS bigint LANGUAGE sql STABLE AS $$
      SELECT CASE
        WHEN subject IS NULL THEN NULL
        WHEN entity = 'operators' THEN (subject ->> 'id')::bigint
        WHEN entity IN ('operator_keys', 'cinemas') THEN (subject ->> 'operator_id')::bigint
        WHEN entity = 'halls' THEN
          (SELECT c.operator_id FROM cinemas c WHERE c.id = (subject ->> 'cinema_id')::bigint)
        WHEN entity IN ('showings', 'seat_blocks') THEN
          (SELECT c.operator_id FROM halls h JOIN cinemas c ON c.id = h.cinema_id WHERE h.id = (subject ->> 'hall_id')::bigint)
      END
    $$;

    -- An update that moves only what the system keeps by itself (the row's update time, a showing's
    -- seat-map version and taken-seat count, moved by a block or a cancellation) records nothing of
    -- its own. A row that changes hands (a cinema given to another operator) is recorded for both.
    CREATE FUNCTION audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      context jsonb := current_setting('cinema.audit', true)::jsonb;
      old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'secret_hash' END;
      new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'secret_hash' END;
      subject jsonb := coalesce(new_row, old_row);
      kept_by_system text[] := ARRAY['updated_at', 'taken_seats', 'seat_version'];
    BEGIN
      IF TG_OP = 'UPDATE' AND old_row - kept_by_system = new_row - kept_by_system THEN
        RETURN NULL;
      END IF;
      INSERT INTO audit_log (actor, actor_operator_id, actor_key_id, request, operator_id, entity, entity_id, action, before, after)
      SELECT context ->> 'actor', (context ->> 'operatorId')::bigint, (context ->> 'keyId')::bigint, context ->> 'request',
             owner, TG_TABLE_NAME,
             CASE WHEN TG_TABLE_NAME = 'seat_blocks' THEN (subject ->> 'showing_id') || '/' || (subject ->> 'seat_id')
                  ELSE subject ->> 'id' END,
             lower(TG_OP), old_row, new_row
      FROM (SELECT DISTINCT owner FROM unnest(CASE TG_OP
              WHEN 'INSERT' THEN ARRAY[audit_owner(TG_TABLE_NAME, new_row)]
              WHEN 'DELETE' THEN ARRAY[audit_owner(TG_TABLE_NAME, old_row)]
              ELSE ARRAY[audit_owner(TG_TABLE_NAME, new_row), audit_owner(TG_TABLE_NAME, old_row)] END) AS owner) AS owners;
      RETURN NULL;
    END $$;
  `);
  for (const table of AUDITED_TABLES) {
    await db.raw(`
      CREATE TRIGGER ${table}_audit AFTER INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH ROW WHEN (coalesce(current_setting('cinema.audit', true), '') <> '')
        EXECUTE FUNCTION audit_write();
    `);
  }
}

export async function down(db: Knex): Promise<void> {
  for (const table of AUDITED_TABLES) {
    await db.raw(`DROP TRIGGER ${table}_audit ON ${table}`);
  }
  await db.raw(`
    DROP TABLE audit_log;
    DROP FUNCTION audit_write();
    DROP FUNCTION audit_owner(text, jsonb);
    DROP FUNCTION refuse_audit_change();
    ALTER TABLE cinemas DROP COLUMN operator_id;
    DROP TABLE operator_keys;
    DROP TABLE operators;
  `);
}
