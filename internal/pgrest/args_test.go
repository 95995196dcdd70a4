package pgrest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsFilterText(t *testing.T) {
	for _, s := range []string{
		"eq.1", "not.x", "not.", "in.(1,2)", "in.x", "is.null", "is.x", "isdistinct.a", "fts.a", "wfts(english).a b",
		"plfts(a b$).x", "neq.", "cs.{1}", "adj.[1,2)", "gte.5", "gt.5", "lt.x", "like(any).{a}", "ilike(all).x",
		"imatch.^a", "eq(any).x", "fts(é).x",
	} {
		assert.True(t, IsFilterText(s), "%q", s)
	}
	for _, s := range []string{
		"", "hello", "eq", "eq1", "eqx.1", "Eq.1", "not", "nota.b", "in", "inx.1", "is", "isnull", "fts(x-y).a",
		"fts().a", "eq(foo).x", "eq(any)x.", "like(any)", "gte", "in(1)", "a.eq.1", " eq.1", "null", "true", "{a}", "1.5",
	} {
		assert.False(t, IsFilterText(s), "%q", s)
	}
}

func TestCheckArg(t *testing.T) {
	for _, k := range []string{"name", "p_id", "a-b", "$x", "été", "a b", "x1-y2-z3", "1", "_"} {
		assert.NoError(t, CheckArg(k, "value"), "%q", k)
	}
	for _, k := range []string{
		"", "select", "columns", "on_conflict", "order", "limit", "offset", "and", "or", "a.b", "a.limit", " a", "a ",
		"a - b", "a--b", "-a", "a-", "a->b", `"q"`, "a!b", "a\u00a0b",
	} {
		assert.ErrorIs(t, CheckArg(k, "value"), ErrArgument, "%q", k)
	}
	assert.ErrorIs(t, CheckArg("k", "eq.5"), ErrArgument)
	assert.ErrorIs(t, CheckArg("k", "x\x00"), ErrText)
	assert.ErrorIs(t, CheckArg("a\x00", "x"), ErrText)
	assert.ErrorIs(t, CheckArg("a\xff", "x"), ErrText)
	assert.NoError(t, CheckArg("k", `{"a":"eq.1"}`))
	assert.NoError(t, CheckArg("k", "in"))
}
