//! The schema, as embedded, numbered migrations applied at start-up. Each
//! runs once, in order, recorded in `quorum_migrations`; replicas starting
//! together take an advisory lock first, so exactly one applies them and the
//! rest find them applied. A migration is never edited once released: a
//! change is a new one at the end of the list.
//!
//! Double booking is impossible by construction: `hold_attendees` has one
//! row per (hold, attendee) with its time range, and an exclusion constraint
//! forbids two blocking rows of different tickets for one person with
//! overlapping ranges. Ranges are `int8range` over Unix nanoseconds, not
//! `tstzrange`: timestamps are honoured to the nanosecond, and a microsecond
//! `tstzrange` would let two holds that overlap by less than a microsecond
//! through, or refuse two that only touch.

use postgres::Transaction;

/// (version, name, SQL), in order.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "holds, approvals, audit log", V1),
    (
        2,
        "attendees placed in one call; audit pages by transaction",
        V2,
    ),
    (3, "held plans", V3_PLANS),
    (
        4,
        "a hold placed with its audit record in one call; confirm and extend take the placers' locks",
        V4,
    ),
];

/// Two things, both about the hot path of several replicas on one database.
///
/// `lock_people` is the per-person lock of `place_attendees` (migration 2)
/// made one function, and `place_attendees` is redefined to call it, so
/// every writer of a person's rows takes the same keys in the same order:
/// `lock_hold_attendees`, which confirming and extending a hold now call
/// before they change its attendee rows. Those changes write new row
/// versions that the exclusion constraint checks just as it checks a
/// placement's inserts, so without the lock a confirmation and a placement
/// for one of its people could each wait on the other's uncommitted row: a
/// deadlock, broken only after `deadlock_timeout`.
///
/// `place_hold` inserts a hold's row, places its attendees and appends its
/// audit record (when `p_action` is given) in one call instead of three
/// round trips. It answers like `place_attendees`: NULL when placed, else the
/// holds in the way — and then no audit record was written.
const V4: &str = r#"
CREATE FUNCTION lock_people(p_people TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- One placer per person at a time, in a fixed order of people.
    PERFORM pg_advisory_xact_lock(k) FROM (
        SELECT DISTINCT hashtextextended('quorum attendee ' || p, 0) AS k
        FROM UNNEST(p_people) AS p ORDER BY k) AS keys;
END
$$;
CREATE FUNCTION lock_hold_attendees(p_hold TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lock_people(ARRAY(SELECT person_id FROM hold_attendees WHERE hold_id = p_hold));
END
$$;
CREATE OR REPLACE FUNCTION place_attendees(
    p_hold TEXT, p_people TEXT[], p_roles TEXT[], p_ticket TEXT,
    p_start BIGINT, p_end BIGINT, p_expires BIGINT, p_state TEXT, p_now BIGINT
) RETURNS TEXT[] LANGUAGE plpgsql AS $$
BEGIN
    FOR attempt IN 1..2 LOOP
        BEGIN
            PERFORM lock_people(p_people);
            INSERT INTO hold_attendees (hold_id, person_id, role_id, change_ticket, during, expires_at_ns, state)
            SELECT p_hold, t.p, t.r, p_ticket, int8range(p_start, p_end), p_expires, p_state
            FROM UNNEST(p_people, p_roles) AS t (p, r);
            RETURN NULL;
        EXCEPTION WHEN exclusion_violation THEN
            -- Undone at once, rows and locks: the next contender goes on.
        END;
        EXIT WHEN attempt = 2;
        UPDATE hold_attendees SET state = 'EXPIRED'
        WHERE person_id = ANY (p_people) AND during && int8range(p_start, p_end)
          AND state = 'TENTATIVE' AND expires_at_ns <= p_now;
        EXIT WHEN NOT FOUND;
    END LOOP;
    RETURN ARRAY(
        SELECT DISTINCT a.hold_id COLLATE "C" FROM hold_attendees a
        WHERE a.person_id = ANY (p_people) AND a.during && int8range(p_start, p_end)
          AND a.change_ticket <> p_ticket
          AND (a.state = 'CONFIRMED' OR (a.state = 'TENTATIVE' AND a.expires_at_ns > p_now))
        ORDER BY 1);
END
$$;
CREATE FUNCTION place_hold(
    p_hold TEXT, p_ticket TEXT, p_start BIGINT, p_end BIGINT, p_expires BIGINT,
    p_created BIGINT, p_requester TEXT, p_version BIGINT, p_key TEXT, p_print TEXT,
    p_people TEXT[], p_roles TEXT[], p_now BIGINT,
    p_audit_at BIGINT, p_actor TEXT, p_action TEXT, p_reason TEXT
) RETURNS TEXT[] LANGUAGE plpgsql AS $$
DECLARE
    in_the_way TEXT[];
BEGIN
    INSERT INTO holds (id, change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns,
                       requester, version, idempotency_key, request_fingerprint)
    VALUES (p_hold, p_ticket, p_start, p_end, 'TENTATIVE', p_expires, p_created,
            p_requester, p_version, p_key, p_print);
    in_the_way := place_attendees(p_hold, p_people, p_roles, p_ticket, p_start, p_end,
                                  p_expires, 'TENTATIVE', p_now);
    IF in_the_way IS NULL AND p_action IS NOT NULL THEN
        INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason)
        VALUES (p_audit_at, p_actor, p_ticket, p_hold, p_action, p_reason);
    END IF;
    RETURN in_the_way;
END
$$;
"#;

/// A held plan: its row, the link from each milestone to its (ordinary)
/// hold, and its own approval tokens.
const V3_PLANS: &str = r#"
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    change_ticket TEXT NOT NULL REFERENCES tickets (change_ticket),
    requester TEXT NOT NULL,
    created_at_ns BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    UNIQUE (requester, idempotency_key)
);
CREATE TABLE plan_members (
    plan_id TEXT NOT NULL REFERENCES plans (id),
    position INTEGER NOT NULL,
    milestone_id TEXT NOT NULL,
    hold_id TEXT NOT NULL UNIQUE REFERENCES holds (id),
    PRIMARY KEY (plan_id, position),
    UNIQUE (plan_id, milestone_id)
);
CREATE TABLE plan_approvals (
    token_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    approver TEXT NOT NULL,
    expires_at_ns BIGINT NOT NULL
);
CREATE TABLE plan_used_tokens (
    token_id TEXT PRIMARY KEY REFERENCES plan_approvals (token_id),
    plan_id TEXT NOT NULL,
    used_at_ns BIGINT NOT NULL
);
"#;

const V1: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE tickets (
    change_ticket TEXT PRIMARY KEY,
    release_owner TEXT NOT NULL,
    created_at_ns BIGINT NOT NULL
);
CREATE INDEX tickets_by_owner ON tickets (release_owner);
CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    change_ticket TEXT NOT NULL REFERENCES tickets (change_ticket),
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('TENTATIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    expires_at_ns BIGINT NOT NULL,
    created_at_ns BIGINT NOT NULL,
    requester TEXT NOT NULL,
    version BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    release_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (requester, idempotency_key)
);
CREATE INDEX holds_by_ticket ON holds (change_ticket);
CREATE INDEX holds_by_start ON holds (start_ns, id);
CREATE INDEX holds_due ON holds (expires_at_ns) WHERE state = 'TENTATIVE';
-- One row per (hold, attendee). `state` says whether the row still blocks
-- the person: it follows the hold's state, and a placing transaction marks
-- rows whose hold expired by the database clock EXPIRED before it inserts,
-- since expiry (a comparison with now) cannot be in an index predicate.
-- `holds.state` is what the sweeper writes down for the audit log.
CREATE TABLE hold_attendees (
    hold_id TEXT NOT NULL REFERENCES holds (id),
    person_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    change_ticket TEXT NOT NULL,
    during INT8RANGE NOT NULL,
    expires_at_ns BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('TENTATIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    PRIMARY KEY (hold_id, person_id),
    CONSTRAINT no_double_booking EXCLUDE USING gist (
        person_id WITH =, during WITH &&, change_ticket WITH <>
    ) WHERE (state IN ('TENTATIVE', 'CONFIRMED'))
);
CREATE TABLE approvals (
    token_id TEXT PRIMARY KEY,
    hold_id TEXT NOT NULL REFERENCES holds (id),
    approver TEXT NOT NULL,
    expires_at_ns BIGINT NOT NULL
);
CREATE TABLE used_tokens (
    token_id TEXT PRIMARY KEY REFERENCES approvals (token_id),
    hold_id TEXT NOT NULL,
    used_at_ns BIGINT NOT NULL
);
-- Identity ALWAYS: an insert cannot name a sequence to overwrite.
CREATE TABLE audit_log (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ns BIGINT NOT NULL,
    actor TEXT NOT NULL,
    change_ticket TEXT NOT NULL,
    hold_id TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX audit_by_ticket ON audit_log (change_ticket, sequence);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
-- Row triggers catch UPDATE, DELETE and INSERT ... ON CONFLICT DO UPDATE;
-- TRUNCATE fires no row trigger, so it has its own.
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
CREATE TABLE refusal_budget (
    actor TEXT PRIMARY KEY,
    window_start_ns BIGINT NOT NULL,
    logged BIGINT NOT NULL,
    suppressed BIGINT NOT NULL
);
"#;

/// `place_attendees` inserts a hold's attendee rows, or says which holds are
/// in the way, in one call. Why a lock and why in the database: contenders
/// for one person that insert at once each find the others' uncommitted rows
/// in the exclusion constraint's index and wait on them — on each other, so
/// they deadlock (found only after `deadlock_timeout`, a second each) or
/// queue behind one another's client round trips; 64 of them on a busy
/// machine ran past the statement timeout (issue 11's race test). Here each
/// placement first takes a transaction lock per person (in one order, so
/// multi-person holds cannot deadlock on them): the winner holds it to
/// commit, and each loser in turn finds the winner's committed rows, fails
/// the constraint, and its exception block undoes its rows *and* its lock at
/// once, with no client round trip in the queue. The constraint stays the
/// guarantee; the lock only orders contenders. Rows of holds that expired by
/// `p_now` only get in the way if the first insert fails: they are marked
/// expired and the insert tried once more. Returns NULL when placed, else
/// the other tickets' holds active at `p_now` in the way (empty if the one in
/// the way vanished meanwhile: the caller runs its transaction again).
///
/// Audit records carry the inserting transaction's id (`tx`), so a page can
/// stop at a horizon no transaction still running can commit below: the
/// identity `sequence` is handed out at insert, not at commit, so paging by
/// it alone skips a record whose transaction commits after a later one was
/// read. Records written before this migration get `tx` 1 (all committed).
const V2: &str = r#"
CREATE FUNCTION place_attendees(
    p_hold TEXT, p_people TEXT[], p_roles TEXT[], p_ticket TEXT,
    p_start BIGINT, p_end BIGINT, p_expires BIGINT, p_state TEXT, p_now BIGINT
) RETURNS TEXT[] LANGUAGE plpgsql AS $$
BEGIN
    FOR attempt IN 1..2 LOOP
        BEGIN
            -- One placer per person at a time, in a fixed order of people.
            PERFORM pg_advisory_xact_lock(k) FROM (
                SELECT DISTINCT hashtextextended('quorum attendee ' || p, 0) AS k
                FROM UNNEST(p_people) AS p ORDER BY k) AS keys;
            INSERT INTO hold_attendees (hold_id, person_id, role_id, change_ticket, during, expires_at_ns, state)
            SELECT p_hold, t.p, t.r, p_ticket, int8range(p_start, p_end), p_expires, p_state
            FROM UNNEST(p_people, p_roles) AS t (p, r);
            RETURN NULL;
        EXCEPTION WHEN exclusion_violation THEN
            -- Undone at once, rows and locks: the next contender goes on.
        END;
        EXIT WHEN attempt = 2;
        UPDATE hold_attendees SET state = 'EXPIRED'
        WHERE person_id = ANY (p_people) AND during && int8range(p_start, p_end)
          AND state = 'TENTATIVE' AND expires_at_ns <= p_now;
        EXIT WHEN NOT FOUND;
    END LOOP;
    RETURN ARRAY(
        SELECT DISTINCT a.hold_id COLLATE "C" FROM hold_attendees a
        WHERE a.person_id = ANY (p_people) AND a.during && int8range(p_start, p_end)
          AND a.change_ticket <> p_ticket
          AND (a.state = 'CONFIRMED' OR (a.state = 'TENTATIVE' AND a.expires_at_ns > p_now))
        ORDER BY 1);
END
$$;
ALTER TABLE audit_log ADD COLUMN tx XID8 NOT NULL DEFAULT '1';
ALTER TABLE audit_log ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX audit_by_ticket_tx ON audit_log (change_ticket, tx, sequence);
"#;

/// Any number; the same in every replica, so they exclude one another.
const LOCK_KEY: i64 = 0x5155_4f52_554d; // "QUORUM"

/// Applies the migrations not yet applied, in one transaction.
pub fn run(tx: &mut Transaction<'_>) -> Result<usize, postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS quorum_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )?;
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        let done = tx
            .query_opt(
                "SELECT 1 FROM quorum_migrations WHERE version = $1",
                &[version],
            )?
            .is_some();
        if done {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO quorum_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )?;
        tracing::info!(version, name, "database migration applied");
        applied += 1;
    }
    Ok(applied)
}
