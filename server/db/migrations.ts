import type { Database } from './database.js';

interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, as an append-only list: a released migration is never edited, a change is a new entry.
 * Every statement runs on PGlite and PostgreSQL alike. Times are `timestamptz` written from the
 * service's injected clock, never from SQL's now(), so tests control them.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE requests (
        id text PRIMARY KEY,
        requester_id text NOT NULL,
        resource_id text NOT NULL,
        role text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('access', 'extension')),
        extends_grant_id text,
        duration_seconds integer NOT NULL CHECK (duration_seconds > 0),
        reason text NOT NULL,
        ticket text,
        status text NOT NULL CHECK (status IN ('pending', 'queued', 'approved', 'denied', 'cancelled', 'lapsed')),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        stage_index integer,
        stage_escalated boolean NOT NULL DEFAULT false,
        escalates_at timestamptz,
        deciders text[] NOT NULL DEFAULT '{}',
        asked text[] NOT NULL DEFAULT '{}',
        decisions jsonb NOT NULL DEFAULT '[]',
        grant_id text,
        queued_at timestamptz,
        -- Place in its seat pool's line: taken from a sequence under the pool's lock, so arrival order
        -- holds even for requests queued in the same millisecond.
        queue_order bigint
      );
      CREATE SEQUENCE request_queue_order;
      CREATE INDEX requests_by_requester ON requests (requester_id, created_at DESC, id DESC);
      -- One open access request per person and role, and one pending extension per grant, even when two
      -- arrive at the same instant on two instances.
      CREATE UNIQUE INDEX requests_one_open_per_role ON requests (requester_id, resource_id, role)
        WHERE kind = 'access' AND status IN ('pending', 'queued');
      CREATE UNIQUE INDEX requests_one_pending_extension ON requests (extends_grant_id)
        WHERE kind = 'extension' AND status = 'pending';
      CREATE INDEX requests_lapse_due ON requests (expires_at) WHERE status IN ('pending', 'queued');
      CREATE INDEX requests_escalation_due ON requests (escalates_at) WHERE status = 'pending' AND escalates_at IS NOT NULL;
      CREATE INDEX requests_seat_queue ON requests (resource_id, role, queue_order) WHERE status = 'queued';
      CREATE INDEX requests_by_created ON requests (created_at DESC, id DESC);
      CREATE INDEX requests_awaiting_decider ON requests USING gin (deciders) WHERE status = 'pending';

      CREATE TABLE grants (
        id text PRIMARY KEY,
        request_id text NOT NULL REFERENCES requests (id),
        user_id text NOT NULL,
        resource_id text NOT NULL,
        role text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
        starts_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        end_reason text,
        ended_by text,
        next_reminder_at timestamptz
      );
      CREATE INDEX grants_expiry_due ON grants (expires_at) WHERE status = 'active';
      CREATE INDEX grants_reminder_due ON grants (next_reminder_at) WHERE status = 'active' AND next_reminder_at IS NOT NULL;
      CREATE INDEX grants_by_user ON grants (user_id, starts_at DESC, id DESC);
      CREATE INDEX grants_by_started ON grants (starts_at DESC, id DESC);
      CREATE INDEX grants_active_by_role ON grants (resource_id, role) WHERE status = 'active';

      CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      CREATE TABLE totp_steps (
        user_id text PRIMARY KEY,
        last_step bigint NOT NULL
      );

      CREATE TABLE idempotency_keys (
        user_id text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        status_code integer,
        response jsonb,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, key)
      );
      CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        retired_at timestamptz,
        last_token_expires_at timestamptz
      );

      CREATE TABLE event_heads (
        user_id text PRIMARY KEY,
        seq bigint NOT NULL
      );
      CREATE TABLE events (
        user_id text NOT NULL,
        seq bigint NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, seq)
      );
      CREATE INDEX events_by_age ON events (created_at);

      CREATE TABLE audit_log (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        actor_id text,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        data jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );
      -- The head of the chain, updated in the same transaction as every append: it serialises appends
      -- and lets verification notice rows deleted from the end.
      CREATE TABLE audit_head (
        id integer PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      );
      INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

      CREATE FUNCTION timebox_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP;
      END
      $$;
      CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION timebox_audit_is_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION timebox_audit_is_append_only();
    `,
  },
  {
    id: 2,
    name: 'access outside the service; seat-pool reports',
    sql: `
      -- One row per grant whose resource has access outside the service (a database login): the goal
      -- (present while active, absent once ended), when the next attempt is due (null when done),
      -- and the failure streak. version changes with every new goal.
      CREATE TABLE access_tasks (
        grant_id text PRIMARY KEY,
        user_id text,
        resource_id text NOT NULL,
        role text NOT NULL,
        goal text NOT NULL CHECK (goal IN ('present', 'absent')),
        expires_at timestamptz NOT NULL,
        due_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        version integer NOT NULL DEFAULT 1,
        last_error text,
        failing_since timestamptz,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX access_tasks_due ON access_tasks (due_at) WHERE due_at IS NOT NULL;

      -- Seat-pool utilisation reads a pool's grants and queued requests over a period.
      CREATE INDEX grants_by_pool ON grants (resource_id, role, starts_at);
      CREATE INDEX requests_queued_by_pool ON requests (resource_id, role, queued_at) WHERE queued_at IS NOT NULL;
    `,
  },
  {
    id: 3,
    name: 'audit entries recorded with their change, chained after it',
    sql: `
      -- Written in the transaction of the change it describes; chained onto audit_log soon after, in batches,
      -- by whichever instance gets the head's lock (server/audit/log.ts). The canonical JSON around the
      -- sequence number is kept so the chaining statement can hash without parsing.
      CREATE TABLE audit_pending (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor_id text,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        data jsonb NOT NULL,
        body_before_seq text NOT NULL,
        body_after_seq text NOT NULL
      );
    `,
  },
  {
    id: 4,
    name: 'sessions with an id, a device, an address and a last use; upgraded password hashes',
    sql: `
      -- A session's public id: lists and ends name it, never the token's hash. Sessions from before get one
      -- made from their hash (hex digits are in the ids' alphabet).
      ALTER TABLE sessions ADD COLUMN id text;
      UPDATE sessions SET id = 'ses_' || substr(md5(token_hash), 1, 20);
      ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
      CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
      -- The idle timeout counts from the last use; a stream open on the session counts as use.
      ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
      UPDATE sessions SET last_used_at = created_at;
      ALTER TABLE sessions ALTER COLUMN last_used_at SET NOT NULL;
      ALTER TABLE sessions ADD COLUMN device text NOT NULL DEFAULT '';
      ALTER TABLE sessions ADD COLUMN address text NOT NULL DEFAULT '';
      -- Why and by whom a session ended before its time (signed_out, ended_by_owner, ended_by_admin, offboarded).
      ALTER TABLE sessions ADD COLUMN end_reason text;
      ALTER TABLE sessions ADD COLUMN ended_by text;
      CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC, id DESC);
      CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);

      -- A password hash upgraded to the service's cost at a sign-in (the policy file is read-only to the
      -- service). replaces is the SHA-256 of the policy's hash it stands for: once the policy holds another
      -- hash (the password was changed there), the upgrade no longer applies.
      CREATE TABLE password_upgrades (
        user_id text PRIMARY KEY,
        replaces text NOT NULL,
        hash text NOT NULL,
        upgraded_at timestamptz NOT NULL
      );
    `,
  },
  {
    id: 5,
    name: 'why a request lapsed',
    sql: `
      -- timeout, or grant_expired / grant_relinquished / grant_revoked for an extension whose grant ended
      -- first: a refusal says which, instead of "nobody decided in time" for both.
      ALTER TABLE requests ADD COLUMN lapse_cause text;
    `,
  },
  {
    id: 9,
    name: 'the context of a request',
    sql: `
      -- The requester's address as the service saw it, for the networks condition at each approval; and
      -- the role's conditions the request was outside of when it was made (their messages), which sent it
      -- to people instead of granting it at once.
      ALTER TABLE requests ADD COLUMN client_address text;
      ALTER TABLE requests ADD COLUMN outside_conditions text[] NOT NULL DEFAULT '{}';
    `,
  },
  {
    id: 10,
    name: 'use of grants, for insights',
    sql: `
      -- Whether a grant's credential was ever fetched is read from the audit log: every fetch is audited.
      CREATE INDEX audit_log_credential_fetches ON audit_log (subject_id) WHERE action = 'credential.fetched';
      -- Sessions of a grant's database login seen while the grant lived, sampled from the target's
      -- pg_stat_activity in the background (server/insights/login-sampler.ts). No row: never seen in use.
      CREATE TABLE grant_login_use (
        grant_id text PRIMARY KEY,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        peak_sessions integer NOT NULL
      );
      -- Insights read a period's requests by role and when they were made.
      CREATE INDEX requests_by_role_created ON requests (resource_id, role, created_at) WHERE kind = 'access';
      -- The access review names the audit entries of its period.
      CREATE INDEX audit_log_by_time ON audit_log (at);
    `,
  },
  {
    id: 7,
    name: 'the outbox of deliveries to channels outside the app',
    sql: `
      -- One row per message to one target (a webhook, later a mailbox or a chat user), written in the
      -- transaction of the change it announces. Its id is the delivery's stable id (webhook-id): the same on
      -- every attempt, so receivers can drop repeats. A pending row is due at next_attempt_at; a claim moves
      -- that to the end of its lease, so another instance takes it over only if the claimer died.
      CREATE TABLE deliveries (
        id text PRIMARY KEY,
        channel text NOT NULL,
        target text NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz,
        give_up_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        delivered_at timestamptz
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_listed ON deliveries (status, created_at DESC, id DESC);
      -- An approval link (one per approval mail, named by its delivery's id) decides once.
      CREATE TABLE approval_links_used (
        link_id text PRIMARY KEY,
        request_id text NOT NULL,
        used_at timestamptz NOT NULL
      );
    `,
  },
  {
    id: 6,
    name: 'company sign-in (OIDC)',
    sql: `
      -- People the identity providers brought in (not in the policy file): who they are and their groups
      -- as of their last sign-in or SCIM update. (provider, subject) is the IdP's stable id of the person,
      -- set at their first sign-in; scim_id is their id in SCIM (RFC 7643) when SCIM created them.
      -- An inactive person (offboarded through SCIM) cannot sign in and is nobody's approver.
      CREATE TABLE directory_users (
        id text PRIMARY KEY,
        display_name text NOT NULL,
        groups jsonb NOT NULL,
        provider text,
        subject text,
        scim_id text UNIQUE,
        external_id text,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX directory_users_by_subject ON directory_users (provider, subject);

      -- A browser sign-in in progress, from /start to the provider's callback. id is the state sent to the
      -- provider; the native client's own state, challenge and loopback address wait here meanwhile.
      CREATE TABLE oidc_flows (
        id text PRIMARY KEY,
        provider text NOT NULL,
        redirect_uri text NOT NULL,
        client_state text NOT NULL,
        code_challenge text NOT NULL,
        nonce text NOT NULL,
        provider_verifier text NOT NULL,
        max_age integer,
        created_at timestamptz NOT NULL
      );

      -- The one-time codes the callback hands the native client, redeemed with its PKCE verifier.
      CREATE TABLE oidc_codes (
        code_hash text PRIMARY KEY,
        code_challenge text NOT NULL,
        user_id text NOT NULL,
        provider text NOT NULL,
        auth_time timestamptz NOT NULL,
        mfa boolean NOT NULL,
        expires_at timestamptz NOT NULL
      );

      -- How a session was signed in, when the person last proved who they are, and whether with MFA.
      ALTER TABLE sessions ADD COLUMN auth_method text NOT NULL DEFAULT 'password';
      ALTER TABLE sessions ADD COLUMN auth_time timestamptz;
      UPDATE sessions SET auth_time = created_at;
      ALTER TABLE sessions ALTER COLUMN auth_time SET NOT NULL;
      ALTER TABLE sessions ADD COLUMN mfa boolean NOT NULL DEFAULT false;
    `,
  },
];

/**
 * Brings the schema up to date. Several instances may start at once on one PostgreSQL: the advisory
 * lock makes the others wait and then find nothing left to do.
 */
export async function migrate(db: Database, now: number): Promise<number[]> {
  return db.transaction(async (sql) => {
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('timebox:migrate'))`);
    await sql.query(`CREATE TABLE IF NOT EXISTS timebox_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    const done = new Set(
      (await sql.query<{ id: number }>('SELECT id FROM timebox_migrations')).map((row) => row.id),
    );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await sql.exec(migration.sql);
      await sql.query('INSERT INTO timebox_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        new Date(now),
      ]);
      applied.push(migration.id);
    }
    return applied;
  });
}
