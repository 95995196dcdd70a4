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

-- Email links and the PKCE flow, as Supabase Auth keeps them: one pending
-- confirmation (sign-up, invite) and one recovery (magic link, recovery)
-- token hash per user, "pkce_"-prefixed when the link ends in a code.
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS confirmation_token text NOT NULL DEFAULT '';
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS recovery_token text NOT NULL DEFAULT '';
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS recovery_sent_at timestamptz;
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS invited_at timestamptz;
-- SSO users may share an email with other users, as in Supabase Auth.
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS is_sso_user boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users (lower(email)) WHERE email IS NOT NULL AND NOT is_sso_user;
DROP INDEX IF EXISTS auth.users_email_key;

DO $$
BEGIN
	IF to_regtype('auth.code_challenge_method') IS NULL THEN
		CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
	END IF;
END
$$;
CREATE TABLE IF NOT EXISTS auth.flow_state (
	id uuid PRIMARY KEY,
	user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
	auth_code text,
	code_challenge_method auth.code_challenge_method,
	code_challenge text,
	provider_type text NOT NULL,
	provider_access_token text,
	provider_refresh_token text,
	created_at timestamptz,
	updated_at timestamptz,
	authentication_method text NOT NULL,
	auth_code_issued_at timestamptz,
	invite_token text,
	referrer text,
	oauth_client_state_id uuid,
	linking_target_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
	email_optional boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;

-- MFA factors as Supabase Auth stores them. The stack enrolls none (there
-- are no /factors routes); the admin routes list and delete what is here.
DO $$
BEGIN
	IF to_regtype('auth.factor_type') IS NULL THEN
		CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
	END IF;
	IF to_regtype('auth.factor_status') IS NULL THEN
		CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
	END IF;
END
$$;
CREATE TABLE IF NOT EXISTS auth.mfa_factors (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
	friendly_name text,
	factor_type auth.factor_type NOT NULL,
	status auth.factor_status NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	secret text,
	phone text,
	last_challenged_at timestamptz
);
CREATE INDEX IF NOT EXISTS factor_id_created_at_idx ON auth.mfa_factors (user_id, created_at);

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

// storageSQL is the storage schema as Supabase Storage's migrations leave
// it: buckets and objects under row level security (no policies, so only
// service_role reaches anything until the project adds some), the path
// helpers policies are written with, and the search function listings run
// through as the caller. Object bytes live on disk, not here.
const storageSQL = `
CREATE SCHEMA IF NOT EXISTS storage;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;

DO $$
BEGIN
	IF to_regtype('storage.buckettype') IS NULL THEN
		CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS');
	END IF;
END
$$;

CREATE TABLE IF NOT EXISTS storage.buckets (
	id text PRIMARY KEY,
	name text NOT NULL,
	owner uuid,
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now(),
	public boolean DEFAULT false,
	avif_autodetection boolean DEFAULT false,
	file_size_limit bigint,
	allowed_mime_types text[],
	owner_id text,
	type storage.buckettype NOT NULL DEFAULT 'STANDARD'
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets (name);
COMMENT ON COLUMN storage.buckets.owner IS 'Field is deprecated, use owner_id instead';

CREATE TABLE IF NOT EXISTS storage.objects (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	bucket_id text CONSTRAINT "objects_bucketId_fkey" REFERENCES storage.buckets (id),
	name text,
	owner uuid,
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now(),
	last_accessed_at timestamptz DEFAULT now(),
	metadata jsonb,
	path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
	version text,
	owner_id text,
	user_metadata jsonb
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects (name text_pattern_ops);
COMMENT ON COLUMN storage.objects.owner IS 'Field is deprecated, use owner_id instead';

ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;

-- The helpers policies use: 'a/b/c.png' has folders {a,b}, file name
-- c.png and extension png.
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	_parts text[] := string_to_array(name, '/');
BEGIN
	RETURN _parts[1 : array_length(_parts, 1) - 1];
END
$$;
CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	_parts text[] := string_to_array(name, '/');
BEGIN
	RETURN _parts[array_length(_parts, 1)];
END
$$;
CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	_parts text[] := string_to_array(name, '/');
BEGIN
	RETURN reverse(split_part(reverse(_parts[array_length(_parts, 1)]), '.', 1));
END
$$;

-- The operation being served (storage.object.upload, ...), for policies
-- that tell operations apart.
CREATE OR REPLACE FUNCTION storage.operation() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN current_setting('storage.operation', true);
END
$$;

CREATE OR REPLACE FUNCTION storage.get_size_by_bucket() RETURNS TABLE (size bigint, bucket_id text) LANGUAGE sql STABLE AS $$
	SELECT sum((metadata ->> 'size')::bigint)::bigint, bucket_id FROM storage.objects GROUP BY bucket_id
$$;

-- One level of a listing: the objects right under prefix || search and the
-- folders holding deeper ones (id and dates null), names relative to
-- prefix. It runs as the caller, so row level security decides what is
-- listed; a folder shows when the caller sees something inside it.
-- levels is unused (kept for its signature).
CREATE OR REPLACE FUNCTION storage.search(prefix text, bucketname text, limits int DEFAULT 100, levels int DEFAULT 1,
	offsets int DEFAULT 0, search text DEFAULT '', sortcolumn text DEFAULT 'name', sortorder text DEFAULT 'asc')
RETURNS TABLE (name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz, metadata jsonb)
LANGUAGE sql STABLE SECURITY INVOKER AS $$
	WITH opts AS (
		SELECT coalesce(prefix, '') AS base,
			coalesce(prefix, '') || coalesce(search, '') AS whole,
			lower(coalesce(sortorder, 'asc')) <> 'desc' AS up,
			CASE lower(coalesce(sortcolumn, 'name'))
				WHEN 'updated_at' THEN 'updated_at' WHEN 'created_at' THEN 'created_at'
				WHEN 'last_accessed_at' THEN 'last_accessed_at' ELSE 'name' END AS col
	), hits AS (
		SELECT o.name, o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata,
			strpos(substr(o.name, length(opts.whole) + 1), '/') AS slash
		FROM storage.objects o, opts
		WHERE o.bucket_id = bucketname AND starts_with(lower(o.name), lower(opts.whole))
	), entries AS (
		SELECT left(h.name, length(opts.whole) + h.slash) AS key, NULL::uuid AS id, NULL::timestamptz AS updated_at,
			NULL::timestamptz AS created_at, NULL::timestamptz AS last_accessed_at, NULL::jsonb AS metadata, true AS folder
		FROM hits h, opts WHERE h.slash > 0 GROUP BY 1
		UNION ALL
		SELECT h.name, h.id, h.updated_at, h.created_at, h.last_accessed_at, h.metadata, false
		FROM hits h WHERE h.slash = 0
	)
	SELECT substr(CASE WHEN e.folder THEN left(e.key, -1) ELSE e.key END, length(opts.base) + 1),
		e.id, e.updated_at, e.created_at, e.last_accessed_at, e.metadata
	FROM entries e, opts
	ORDER BY
		CASE WHEN opts.col <> 'name' THEN e.folder END DESC,
		CASE WHEN opts.up THEN CASE opts.col WHEN 'updated_at' THEN e.updated_at WHEN 'created_at' THEN e.created_at
			WHEN 'last_accessed_at' THEN e.last_accessed_at END END ASC,
		CASE WHEN NOT opts.up THEN CASE opts.col WHEN 'updated_at' THEN e.updated_at WHEN 'created_at' THEN e.created_at
			WHEN 'last_accessed_at' THEN e.last_accessed_at END END DESC,
		CASE WHEN opts.up THEN lower(e.key) COLLATE "C" END ASC,
		CASE WHEN NOT opts.up THEN lower(e.key) COLLATE "C" END DESC
	LIMIT least(coalesce(limits, 100), 1500) OFFSET coalesce(offsets, 0)
$$;

CREATE OR REPLACE FUNCTION storage.update_updated_at_column() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at = now();
	RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS update_objects_updated_at ON storage.objects;
CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
	FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();

CREATE OR REPLACE FUNCTION storage.enforce_bucket_name_length() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF length(NEW.name) > 100 THEN
		RAISE EXCEPTION 'bucket name "%" is too long (% characters). Max is 100.', NEW.name, length(NEW.name);
	END IF;
	RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS enforce_bucket_name_length_trigger ON storage.buckets;
CREATE TRIGGER enforce_bucket_name_length_trigger BEFORE INSERT OR UPDATE OF name ON storage.buckets
	FOR EACH ROW EXECUTE FUNCTION storage.enforce_bucket_name_length();

-- A row deleted in SQL would leave its bytes behind: deletes go through the
-- API, which sets storage.allow_delete_query.
CREATE OR REPLACE FUNCTION storage.protect_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' THEN
		RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
			USING HINT = 'This prevents accidental data loss from orphaned objects.', ERRCODE = '42501';
	END IF;
	RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS protect_buckets_delete ON storage.buckets;
CREATE TRIGGER protect_buckets_delete BEFORE DELETE ON storage.buckets
	FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
DROP TRIGGER IF EXISTS protect_objects_delete ON storage.objects;
CREATE TRIGGER protect_objects_delete BEFORE DELETE ON storage.objects
	FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
`

// demoSQL is the demo application's schema: todos that only their owner
// sees, and a private avatars bucket where each user reads and writes only
// under a folder named after their user id.
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

INSERT INTO storage.buckets (id, name, public) VALUES ('avatars', 'avatars', false) ON CONFLICT (id) DO NOTHING;
DROP POLICY IF EXISTS "Users read their own avatars" ON storage.objects;
CREATE POLICY "Users read their own avatars" ON storage.objects FOR SELECT TO authenticated
	USING (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text);
DROP POLICY IF EXISTS "Users upload their own avatars" ON storage.objects;
CREATE POLICY "Users upload their own avatars" ON storage.objects FOR INSERT TO authenticated
	WITH CHECK (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text);
DROP POLICY IF EXISTS "Users change their own avatars" ON storage.objects;
CREATE POLICY "Users change their own avatars" ON storage.objects FOR UPDATE TO authenticated
	USING (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text)
	WITH CHECK (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text);
DROP POLICY IF EXISTS "Users delete their own avatars" ON storage.objects;
CREATE POLICY "Users delete their own avatars" ON storage.objects FOR DELETE TO authenticated
	USING (bucket_id = 'avatars' AND (storage.foldername(name))[1] = auth.uid()::text);
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
		sql += storageSQL
		_, err := tx.Exec(ctx, sql)
		return err
	})
	if err != nil {
		return fmt.Errorf("localstack: apply auth schema: %w", err)
	}
	return nil
}

// ApplyDemoSchema creates the demo table public.todos and the private
// bucket avatars, with their row level security policies. It is idempotent.
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
