package localstack

// SetPasswordComparer replaces the bcrypt comparison password sign-ins
// run, so tests can count comparisons instead of timing them.
func SetPasswordComparer(s *Server, f func(hash, password []byte) error) { s.compareHash.Store(&f) }
