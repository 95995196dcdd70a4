package supabase

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// String describes q: its method, target and query parameters, the names
// (never the values) of the headers set with [Query.Header], and its error.
// A header value may be a credential (Authorization, apikey, a cookie);
// [Query.Preview] shows the request in full, without the credentials the
// client adds when sending.
func (q Query) String() string {
	var b strings.Builder
	b.WriteString("supabase.Query{")
	b.WriteString(q.summary())
	if names := q.headerNames(); len(names) > 0 {
		b.WriteString(", headers: " + strings.Join(names, " "))
	}
	if err := q.Err(); err != nil {
		b.WriteString(", err: " + err.Error())
	}
	b.WriteString("}")
	return b.String()
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print [Query.String].
func (q Query) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, q.String()) }

// LogValue makes slog log what [Query.String] shows.
func (q Query) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("request", q.summary())}
	if names := q.headerNames(); len(names) > 0 {
		attrs = append(attrs, slog.Any("headers", names))
	}
	if err := q.Err(); err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// summary is "METHOD target?params".
func (q Query) summary() string {
	s := q.method() + " " + q.target
	if qs := q.params.String(); qs != "" {
		s += "?" + qs
	}
	return s
}

func (q Query) headerNames() []string {
	headers := q.extras().headers
	names := make([]string, 0, len(headers))
	for _, h := range headers {
		names = append(names, h.name)
	}
	return names
}
