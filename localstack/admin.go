package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// requireAdmin accepts a bearer token whose role is service_role (or
// supabase_admin), as Supabase Auth's admin endpoints do.
func (s *Server) requireAdmin(r *http.Request) error {
	tok, ok := bearer(r)
	if !ok || tok == "" {
		return authErr(http.StatusUnauthorized, "no_authorization", "This endpoint requires a Bearer token")
	}
	vt, err := verifyJWT(s.cfg.JWTSecret, tok)
	if err != nil {
		return authErr(http.StatusForbidden, "bad_jwt", "invalid JWT: unable to parse or verify signature, "+jwtLibMessage(err))
	}
	switch vt.str("role") {
	case "service_role", "supabase_admin":
		return nil
	}
	return authErr(http.StatusForbidden, "not_admin", "User not allowed")
}

// admin wraps an admin handler: it checks the caller and answers errors.
func (s *Server) admin(w http.ResponseWriter, r *http.Request, f func(ctx context.Context) error) {
	err := s.requireAdmin(r)
	if err == nil {
		err = f(r.Context())
	}
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		q := r.URL.Query()
		page, perPage := 1, 50
		if v := q.Get("page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return authErr(http.StatusBadRequest, "validation_failed", "Bad Pagination Parameters: page must be a positive integer")
			}
			page = n
		}
		if v := q.Get("per_page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return authErr(http.StatusBadRequest, "validation_failed", "Bad Pagination Parameters: per_page must be a positive integer")
			}
			perPage = n
		}
		var total int64
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth.users WHERE deleted_at IS NULL`).Scan(&total); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM auth.users WHERE deleted_at IS NULL
			ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`, perPage, int64(page-1)*int64(perPage))
		if err != nil {
			return err
		}
		users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*user, error) { return scanUser(row) })
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := loadIdentities(ctx, s.pool, u); err != nil {
				return err
			}
		}
		if users == nil {
			users = []*user{}
		}
		// As Supabase Auth writes them: the request's own URL (as Auth
		// sees it, behind the gateway) with page replaced.
		w.Header().Set("X-Total-Count", strconv.FormatInt(total, 10))
		last := int((total + int64(perPage) - 1) / int64(perPage))
		pageURL := func(n int) string {
			q := r.URL.Query()
			q.Del("apikey") // the gateway hides the key from Auth
			q.Set("page", strconv.Itoa(n))
			return "</admin/users?" + q.Encode() + ">"
		}
		link := ""
		if page < last {
			link = pageURL(page+1) + `; rel="next", `
		}
		link += pageURL(last) + `; rel="last"`
		w.Header().Set("Link", link)
		writeJSON(w, http.StatusOK, map[string]any{"aud": "authenticated", "users": users})
		return nil
	})
}

type adminUserParams struct {
	Email        *string         `json:"email"`
	Phone        *string         `json:"phone"`
	Password     *string         `json:"password"`
	EmailConfirm bool            `json:"email_confirm"`
	PhoneConfirm bool            `json:"phone_confirm"`
	UserMetadata json.RawMessage `json:"user_metadata"`
	AppMetadata  json.RawMessage `json:"app_metadata"`
	Role         string          `json:"role"`
	BanDuration  string          `json:"ban_duration"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		var p adminUserParams
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		email, err := normalizeEmail(deref(p.Email))
		if err != nil {
			return err
		}
		phone, err := normalizePhone(deref(p.Phone))
		if err != nil {
			return err
		}
		if email == "" && phone == "" {
			return authErr(http.StatusBadRequest, "validation_failed", "Unable to validate email address: invalid format")
		}
		if p.Password != nil {
			if err := s.checkPassword(*p.Password); err != nil {
				return err
			}
		}
		exists := authErr(http.StatusUnprocessableEntity, "email_exists", "A user with this email address has already been registered")
		if email == "" {
			exists = authErr(http.StatusUnprocessableEntity, "phone_exists", "A user with this phone number has already been registered")
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := s.createUser(ctx, tx, newUser{
				email: email, phone: phone, password: deref(p.Password),
				emailConfirmed: p.EmailConfirm && email != "", phoneConfirmed: p.PhoneConfirm && phone != "",
				role: p.Role, userMeta: p.UserMetadata, appMeta: p.AppMetadata,
			}, exists)
			if err != nil {
				return err
			}
			if p.BanDuration != "" {
				if err := banUser(ctx, tx, u.ID, p.BanDuration); err != nil {
					return err
				}
				if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
					return err
				}
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		})
	})
}

func banUser(ctx context.Context, tx pgx.Tx, id, duration string) error {
	if duration == "none" {
		_, err := tx.Exec(ctx, `UPDATE auth.users SET banned_until = NULL, updated_at = now() WHERE id = $1`, id)
		return err
	}
	d, err := time.ParseDuration(duration)
	if err != nil || d < 0 {
		return authErr(http.StatusBadRequest, "validation_failed", "invalid format for ban duration: "+duration)
	}
	_, err = tx.Exec(ctx, `UPDATE auth.users SET banned_until = $2, updated_at = now() WHERE id = $1`, id, time.Now().Add(d))
	return err
}

// adminUser loads the user named in the path.
func (s *Server) adminUser(ctx context.Context, db dbtx, r *http.Request) (*user, error) {
	id := r.PathValue("id")
	if !isUUID(id) {
		return nil, authErr(http.StatusBadRequest, "validation_failed", "user_id must be an UUID")
	}
	u, err := findUser(ctx, db, "id = $1", id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, authErr(http.StatusNotFound, "user_not_found", "User not found")
	}
	return u, nil
}

func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		u, err := s.adminUser(ctx, s.pool, r)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	})
}

func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		var p adminUserParams
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := s.adminUser(ctx, tx, r)
			if err != nil {
				return err
			}
			if err := s.applyUserChanges(ctx, tx, u, p.Email, p.Phone, p.Password, p.UserMetadata, p.AppMetadata, true); err != nil {
				return err
			}
			if p.Password != nil {
				// As Supabase Auth: a password set by an admin signs every session out.
				if _, err := tx.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1`, u.ID); err != nil {
					return err
				}
			}
			if p.Role != "" {
				if _, err := tx.Exec(ctx, `UPDATE auth.users SET role = $2, updated_at = now() WHERE id = $1`, u.ID, p.Role); err != nil {
					return err
				}
			}
			if p.EmailConfirm {
				if _, err := tx.Exec(ctx, `UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()) WHERE id = $1 AND email IS NOT NULL`, u.ID); err != nil {
					return err
				}
			}
			if p.PhoneConfirm {
				if _, err := tx.Exec(ctx, `UPDATE auth.users SET phone_confirmed_at = coalesce(phone_confirmed_at, now()) WHERE id = $1 AND phone IS NOT NULL`, u.ID); err != nil {
					return err
				}
			}
			if p.BanDuration != "" {
				if err := banUser(ctx, tx, u.ID, p.BanDuration); err != nil {
					return err
				}
			}
			u, err = findUser(ctx, tx, "id = $1", u.ID)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		})
	})
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		var p struct {
			ShouldSoftDelete bool `json:"should_soft_delete"`
		}
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := s.adminUser(ctx, tx, r)
			if err != nil {
				return err
			}
			if p.ShouldSoftDelete {
				// Soft deletion keeps the row (and what references it) but
				// frees the email and phone and ends every session.
				_, err = tx.Exec(ctx, `UPDATE auth.users SET deleted_at = now(), email = NULL, phone = NULL,
					encrypted_password = '', updated_at = now() WHERE id = $1`, u.ID)
				if err == nil {
					_, err = tx.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1`, u.ID)
				}
				if err == nil {
					_, err = tx.Exec(ctx, `DELETE FROM auth.identities WHERE user_id = $1`, u.ID)
				}
			} else {
				_, err = tx.Exec(ctx, `DELETE FROM auth.users WHERE id = $1`, u.ID)
			}
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string]any{})
			return nil
		})
	})
}

// factor is a row of auth.mfa_factors in Supabase Auth's JSON shape.
type factor struct {
	ID               string     `json:"id"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	Status           string     `json:"status"`
	FriendlyName     string     `json:"friendly_name,omitempty"`
	FactorType       string     `json:"factor_type"`
	Phone            *string    `json:"phone"`
	LastChallengedAt *time.Time `json:"last_challenged_at"`
}

const factorColumns = `id, created_at, updated_at, status::text, coalesce(friendly_name, ''), factor_type::text, phone, last_challenged_at`

func scanFactor(row pgx.CollectableRow) (factor, error) {
	var f factor
	err := row.Scan(&f.ID, &f.CreatedAt, &f.UpdatedAt, &f.Status, &f.FriendlyName, &f.FactorType, &f.Phone, &f.LastChallengedAt)
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	return f, err
}

// adminListFactors is GET /admin/users/{id}/factors.
func (s *Server) adminListFactors(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		u, err := s.adminUser(ctx, s.pool, r)
		if err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, `SELECT `+factorColumns+` FROM auth.mfa_factors WHERE user_id = $1 ORDER BY created_at`, u.ID)
		if err != nil {
			return err
		}
		fs, err := pgx.CollectRows(rows, scanFactor)
		if err != nil {
			return err
		}
		if fs == nil {
			fs = []factor{}
		}
		writeJSON(w, http.StatusOK, fs)
		return nil
	})
}

// adminDeleteFactor is DELETE /admin/users/{id}/factors/{factor_id}: the
// factor goes, and the user's sessions fall back to aal1.
func (s *Server) adminDeleteFactor(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := s.adminUser(ctx, tx, r)
			if err != nil {
				return err
			}
			id := r.PathValue("factor_id")
			if !isUUID(id) {
				return authErr(http.StatusNotFound, "validation_failed", "factor_id must be an UUID")
			}
			rows, err := tx.Query(ctx, `DELETE FROM auth.mfa_factors WHERE id = $1 AND user_id = $2 RETURNING `+factorColumns, id, u.ID)
			if err != nil {
				return err
			}
			fs, err := pgx.CollectRows(rows, scanFactor)
			if err != nil {
				return err
			}
			if len(fs) == 0 {
				return authErr(http.StatusNotFound, "mfa_factor_not_found", "Factor not found")
			}
			if _, err := tx.Exec(ctx, `UPDATE auth.sessions SET aal = 'aal1', updated_at = now() WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, fs[0])
			return nil
		})
	})
}
