package localstack_test

import (
	"context"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// Setting up the same database from several processes at once, and again
// over an existing schema, must work: roles are cluster-wide and tests run
// in parallel.
func TestSchemaSetupIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := localstack.New(ctx, localstack.Config{DatabaseURL: st.DatabaseURL, MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			defer srv.Close()
			errs <- srv.ApplyDemoSchema(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var bypass, member bool
	err := st.Server.Pool().QueryRow(ctx, `SELECT rolbypassrls, pg_has_role('authenticator', 'authenticated', 'MEMBER')
		FROM pg_roles WHERE rolname = 'service_role'`).Scan(&bypass, &member)
	if err != nil || !bypass || !member {
		t.Errorf("roles: bypassrls=%v member=%v err=%v", bypass, member, err)
	}
	var policies int
	if err := st.Server.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_policies WHERE tablename = 'todos'`).Scan(&policies); err != nil || policies != 4 {
		t.Errorf("todos policies = %d, %v", policies, err)
	}
}

// The API roles get every privilege on the public schema's objects when the
// stack first sets a database up; a later start keeps a REVOKE made since.
func TestRestartKeepsRevokes(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := context.Background()
	db := st.Server.Pool()
	if _, err := db.Exec(ctx, `CREATE TABLE public.secrets (id int); REVOKE ALL ON public.secrets FROM anon`); err != nil {
		t.Fatal(err)
	}
	srv, err := localstack.New(ctx, localstack.Config{DatabaseURL: st.DatabaseURL, MaxConns: 2, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	var anon, authed bool
	if err := db.QueryRow(ctx, `SELECT has_table_privilege('anon', 'public.secrets', 'SELECT'),
		has_table_privilege('authenticated', 'public.secrets', 'SELECT')`).Scan(&anon, &authed); err != nil {
		t.Fatal(err)
	}
	if anon || !authed {
		t.Errorf("after a restart: anon may select = %v, authenticated = %v", anon, authed)
	}
}
