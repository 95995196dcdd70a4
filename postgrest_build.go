package supabase

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func (q Query) method() string {
	switch q.kind {
	case kindInsert, kindUpsert:
		return http.MethodPost
	case kindUpdate:
		return http.MethodPatch
	case kindDelete:
		return http.MethodDelete
	case kindRPC:
		switch q.rpcMethod {
		case rpcGet:
			return http.MethodGet
		case rpcHead:
			return http.MethodHead
		}
		return http.MethodPost
	}
	if q.head {
		return http.MethodHead
	}
	return http.MethodGet
}

// build renders q into the request the transport sends.
func (q Query) build() (*apiRequest, error) {
	if err := q.Err(); err != nil {
		return nil, err
	}
	r := &apiRequest{service: ServiceREST, method: q.method(), url: q.renderURL(), body: q.extras().body}
	r.retry = r.method == http.MethodGet || r.method == http.MethodHead || q.retry
	// The headers go into the request's own array: no map is made until
	// the transport's.
	r.pairs = r.pairBuf[:0]
	if accept := q.acceptHeader(); accept != "" {
		r.pairs = append(r.pairs, headerPair{"Accept", accept})
	}
	if q.c.schema != "" {
		if r.method == http.MethodGet || r.method == http.MethodHead {
			r.pairs = append(r.pairs, headerPair{"Accept-Profile", q.c.schema})
		} else {
			r.pairs = append(r.pairs, headerPair{"Content-Profile", q.c.schema})
		}
	}
	// A request without a body gets no Content-Type (supabase-js sends one
	// on DELETE too; a media type for no content is meaningless).
	if r.body != nil {
		r.pairs = append(r.pairs, headerPair{"Content-Type", mediaJSON})
	}
	if prefer := q.preferHeader(); prefer != "" {
		r.pairs = append(r.pairs, headerPair{"Prefer", prefer})
	}
	// The query's own headers come last and so replace the ones above.
	r.pairs = append(r.pairs, q.extras().headers...)
	return r, nil
}

// renderURL returns the request URL: the REST URL, the path-escaped target
// and the query string. The parameter list keeps all of it in one block, so
// this is usually no copy at all (see [pgrest.Params.URL]).
func (q Query) renderURL() string {
	path, lead := "/", ""
	switch {
	case q.kind == kindRPC:
		path = "/rpc/"
	case q.kind == kindRead && !q.selected:
		// The default select=* goes first, as supabase-js sends it.
		lead = "select=*"
	}
	return q.params.URL(q.c.core.restURL, path, url.PathEscape(q.target), lead)
}

func (q Query) acceptHeader() string {
	var accept string
	switch q.accept {
	case acceptObject:
		accept = mediaObject
	case acceptCSV:
		accept = mediaCSV
	case acceptGeoJSON:
		accept = mediaGeoJSON
	}
	if e := q.extras().explain; e != nil {
		var opts []string
		for _, o := range []struct {
			on   bool
			name string
		}{{e.Analyze, "analyze"}, {e.Verbose, "verbose"}, {e.Settings, "settings"}, {e.Buffers, "buffers"}, {e.WAL, "wal"}} {
			if o.on {
				opts = append(opts, o.name)
			}
		}
		forType := accept
		if forType == "" {
			forType = mediaJSON
		}
		return "application/vnd.pgrst.plan+" + e.Format + `; for="` + forType + `"; options=` + strings.Join(opts, "|") + ";"
	}
	if q.stripNulls {
		switch q.accept {
		case acceptDefault:
			return mediaArrayNulls
		case acceptObject:
			return mediaObject + ";nulls=stripped"
		}
	}
	return accept
}

func (q Query) preferHeader() string {
	var p []string
	if q.kind == kindUpsert {
		if q.ignoreDups {
			p = append(p, "resolution=ignore-duplicates")
		} else {
			p = append(p, "resolution=merge-duplicates")
		}
	}
	if count := q.extras().count; count != "" {
		p = append(p, "count="+string(count))
	}
	if q.missingDefault {
		p = append(p, "missing=default")
	}
	switch {
	case q.rpcMinimal:
		p = append(p, "return=minimal")
	case q.selected && q.kind != kindRead:
		p = append(p, "return=representation")
	}
	if q.rollback {
		p = append(p, "tx=rollback")
	}
	if q.hasMaxAffected {
		p = append(p, "handling=strict", "max-affected="+strconv.Itoa(q.extras().maxAffected))
	}
	return strings.Join(p, ", ")
}

// RequestPreview is the request a query would send, for tests, logs and
// examples. Header holds the query's headers and the client's [WithHeaders]
// headers, but never apikey, Authorization or X-Client-Info, which are added
// when the request is sent.
type RequestPreview struct {
	Method string
	URL    string // absolute, with the query string
	Header http.Header
	Body   []byte // nil when the request has no body
}

// Preview returns the request q would send, without sending it. It returns
// the error the query carries, if any.
func (q Query) Preview() (RequestPreview, error) {
	r, err := q.build()
	if err != nil {
		return RequestPreview{}, err
	}
	h := make(http.Header, len(r.pairs)+len(q.c.core.headers))
	for _, p := range r.pairs {
		h[p.name] = []string{p.value}
	}
	for k, vs := range q.c.core.headers {
		h[k] = slices.Clone(vs)
	}
	for _, k := range []string{"Authorization", "Apikey", "X-Client-Info"} {
		h.Del(k)
	}
	return RequestPreview{Method: r.method, URL: r.url, Header: h, Body: slices.Clone(r.body)}, nil
}

// String formats the preview as the request line, one "Name: value" line
// per header in sorted order, and the body after a blank line.
func (p RequestPreview) String() string {
	var b strings.Builder
	b.WriteString(p.Method + " " + p.URL + "\n")
	keys := make([]string, 0, len(p.Header))
	for k := range p.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range p.Header[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	if p.Body != nil {
		b.WriteString("\n")
		b.Write(p.Body)
		b.WriteString("\n")
	}
	return b.String()
}

// url renders the URL q would request (Preview without the headers).
func (q Query) url() (string, error) {
	if err := q.Err(); err != nil {
		return "", err
	}
	return q.renderURL(), nil
}
