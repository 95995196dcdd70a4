package localstack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// roleSQL creates the cluster-wide API roles as Supabase defines them:
// /rest/v1 logs in as authenticator, which may only switch to the API roles.
// Roles are shared by every database of the cluster, so concurrent setups
// from other databases can race here: duplicate_object and unique_violation
// both mean another session created the role first.
const roleSQL = `
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator'] LOOP
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
			BEGIN
				EXECUTE CASE r
					WHEN 'service_role' THEN 'CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS'
					WHEN 'authenticator' THEN 'CREATE ROLE authenticator LOGIN NOINHERIT'
					ELSE format('CREATE ROLE %I NOLOGIN NOINHERIT', r)
				END;
			EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
			END;
		END IF;
	END LOOP;
	-- Clusters set up by earlier versions have a NOLOGIN authenticator.
	IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'authenticator') THEN
		ALTER ROLE authenticator LOGIN;
	END IF;
	FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
		IF NOT pg_has_role('authenticator', r, 'MEMBER') THEN
			BEGIN
				EXECUTE format('GRANT %I TO authenticator', r);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
			END;
		END IF;
	END LOOP;
END
$$`

// authSQL is the per-database part: the auth schema, its functions and the
// default grants. It runs under a transaction-level advisory lock, so
// concurrent setups of one database do not trip over each other.
const authSQL = `
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.users (
	instance_id uuid,
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	aud text NOT NULL DEFAULT 'authenticated',
	role text NOT NULL DEFAULT 'authenticated',
	email text,
	encrypted_password text NOT NULL DEFAULT '',
	email_confirmed_at timestamptz,
	confirmation_sent_at timestamptz,
	new_email text,
	phone text,
	phone_confirmed_at timestamptz,
	last_sign_in_at timestamptz,
	raw_app_meta_data jsonb NOT NULL DEFAULT '{}',
	raw_user_meta_data jsonb NOT NULL DEFAULT '{}',
	banned_until timestamptz,
	is_anonymous boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz,
	confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON auth.users (lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_phone_key ON auth.users (phone) WHERE phone IS NOT NULL;

CREATE TABLE IF NOT EXISTS auth.identities (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	provider_id text NOT NULL,
	user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
	identity_data jsonb NOT NULL,
	provider text NOT NULL,
	last_sign_in_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
	UNIQUE (provider_id, provider)
);

CREATE TABLE IF NOT EXISTS auth.sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
	aal text NOT NULL DEFAULT 'aal1',
	amr jsonb NOT NULL DEFAULT '[]',
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	refreshed_at timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
	id bigserial PRIMARY KEY,
	token text NOT NULL UNIQUE,
	user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
	session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
	parent text,
	revoked boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_idx ON auth.refresh_tokens (session_id, revoked);

-- As Supabase defines them: the claims come from the JWT of the request.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		nullif(current_setting('request.jwt.claim.sub', true), ''),
		(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
	)::uuid
$$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		nullif(current_setting('request.jwt.claim.role', true), ''),
		(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
	)::text
$$;
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		nullif(current_setting('request.jwt.claim.email', true), ''),
		(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
	)::text
$$;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		nullif(current_setting('request.jwt.claim', true), ''),
		nullif(current_setting('request.jwt.claims', true), '')
	)::jsonb
$$;

-- Supabase's default privileges: the API roles use the public schema and
-- get every privilege on what is created in it; RLS decides the rest.
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
`

// firstGrantsSQL grants the API roles what the public schema already holds.
// It runs only when the auth schema is created, so that a later start does
// not undo a REVOKE of the database's owner.
const firstGrantsSQL = `
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;
`

// demoSQL is the demo application's schema: todos that only their owner sees.
const demoSQL = `
CREATE TABLE IF NOT EXISTS public.todos (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id uuid NOT NULL DEFAULT auth.uid() REFERENCES auth.users (id) ON DELETE CASCADE,
	title text NOT NULL,
	done boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
GRANT ALL ON public.todos TO anon, authenticated, service_role;

DROP POLICY IF EXISTS "Users see their own todos" ON public.todos;
CREATE POLICY "Users see their own todos" ON public.todos
	FOR SELECT TO authenticated USING (user_id = auth.uid());
DROP POLICY IF EXISTS "Users add their own todos" ON public.todos;
CREATE POLICY "Users add their own todos" ON public.todos
	FOR INSERT TO authenticated WITH CHECK (user_id = auth.uid());
DROP POLICY IF EXISTS "Users change their own todos" ON public.todos;
CREATE POLICY "Users change their own todos" ON public.todos
	FOR UPDATE TO authenticated USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
DROP POLICY IF EXISTS "Users delete their own todos" ON public.todos;
CREATE POLICY "Users delete their own todos" ON public.todos
	FOR DELETE TO authenticated USING (user_id = auth.uid());
`

// setupLockKey identifies the advisory lock that serialises setup within
// one database.
const setupLockKey = 0x5355_5041 // "SUPA"

func applySchema(ctx context.Context, pool *pgxpool.Pool) error {
	if err := retryConcurrent(ctx, func() error {
		_, err := pool.Exec(ctx, roleSQL)
		return err
	}); err != nil {
		return fmt.Errorf("localstack: create roles: %w", err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(setupLockKey)); err != nil {
			return err
		}
		var fresh bool
		if err := tx.QueryRow(ctx, `SELECT to_regnamespace('auth') IS NULL`).Scan(&fresh); err != nil {
			return err
		}
		sql := authSQL
		if fresh {
			sql += firstGrantsSQL
		}
		_, err := tx.Exec(ctx, sql)
		return err
	})
	if err != nil {
		return fmt.Errorf("localstack: apply auth schema: %w", err)
	}
	return nil
}

// ApplyDemoSchema creates the demo table public.todos with its row level
// security policies. It is idempotent.
func (s *Server) ApplyDemoSchema(ctx context.Context) error {
	if err := lockedExec(ctx, s.pool, demoSQL); err != nil {
		return fmt.Errorf("localstack: apply demo schema: %w", err)
	}
	return nil
}

// lockedExec runs sql in one transaction holding the setup advisory lock.
func lockedExec(ctx context.Context, pool *pgxpool.Pool, sql string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(setupLockKey)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sql)
		return err
	})
}

// retryConcurrent retries f when it lost a race on a shared catalog, which
// advisory locks cannot prevent because they are per database.
func retryConcurrent(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = f(); err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return err
		}
		switch pgErr.Code {
		case "XX000", "40001", "40P01", "23505", "42710": // tuple concurrently updated, serialization, deadlock, duplicates
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10*(attempt+1)) * time.Millisecond):
		}
	}
	return err
}
