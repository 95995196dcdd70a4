package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Server answers a case's requests from its response rules and records
// every request it receives, tagged with the step being run.
//
// Rules are tried in file order and the first one that fits answers; a
// rule with Once answers at most one request. Requests no rule fits get the
// defaults of the recorder: 200 with [] under /rest/v1, else 404 with a
// "no_rule" Auth-style error.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL string

	srv   *httptest.Server
	mu    sync.Mutex
	rules []Rule
	used  []bool
	step  int
	reqs  []Request
	errs  []string
}

// NewServer starts a server for c. Call Close when done.
func NewServer(c *Case) *Server {
	s := &Server{rules: c.Responses, used: make([]bool, len(c.Responses))}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Client returns an HTTP client for this server; its idle connections are
// closed with the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down and waits for handlers to finish.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetStep sets the step index later requests are tagged with.
func (s *Server) SetStep(i int) {
	s.mu.Lock()
	s.step = i
	s.mu.Unlock()
}

// Requests returns a copy of what the server received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r.Clone()
	}
	return out
}

// Errors returns problems the server had answering (e.g. a rule body that
// is not valid JSON).
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := RecordRequest(r, body)

	s.mu.Lock()
	rec.Step = s.step
	idx := -1
	for i := range s.rules {
		if s.rules[i].Once && s.used[i] {
			continue
		}
		if RuleMatches(&s.rules[i].Match, &rec) {
			idx = i
			break
		}
	}
	var resp Rule
	if idx >= 0 {
		s.used[idx] = true
		n := idx
		rec.Rule = &n
		resp = s.rules[idx]
	} else {
		resp = DefaultResponse(rec.Method, rec.Path)
	}
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()

	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	var payload []byte
	switch {
	case resp.Body != nil:
		var buf bytes.Buffer
		if err := json.Compact(&buf, resp.Body); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Sprintf("rule %d: body: %v", idx, err))
			s.mu.Unlock()
		}
		payload = buf.Bytes()
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json; charset=utf-8")
		}
	case resp.BodyText != nil:
		payload = []byte(*resp.BodyText)
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	if r.Method == http.MethodHead {
		payload = nil
	}
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

// DefaultResponse is the answer when no rule matches.
func DefaultResponse(method, path string) Rule {
	ct := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	if path == "/rest/v1" || strings.HasPrefix(path, "/rest/v1/") {
		return Rule{Status: http.StatusOK, Headers: ct, Body: json.RawMessage(`[]`)}
	}
	msg, _ := json.Marshal("no response rule for " + method + " " + path)
	return Rule{Status: http.StatusNotFound, Headers: ct,
		Body: json.RawMessage(`{"code":404,"error_code":"no_rule","msg":` + string(msg) + `}`)}
}

// RuleMatches reports whether m fits the (recorded) request r.
func RuleMatches(m *Match, r *Request) bool {
	if m.Method != "" && !strings.EqualFold(m.Method, r.Method) {
		return false
	}
	if m.Path != nil && *m.Path != r.Path {
		return false
	}
	if m.PathPrefix != nil && !strings.HasPrefix(r.Path, *m.PathPrefix) {
		return false
	}
	for name, want := range m.Query {
		found := false
		for _, p := range r.Query {
			if p[0] == name && (want == nil || p[1] == *want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// RecordRequest turns a received request and its body into a Request in
// the golden form (step and rule left unset).
func RecordRequest(r *http.Request, body []byte) Request {
	rawPath, rawQuery := r.RequestURI, ""
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		rawPath, rawQuery = rawPath[:i], rawPath[i+1:]
	}
	if u, err := url.ParseRequestURI(rawPath); err == nil && u.Scheme != "" {
		rawPath = u.EscapedPath() // absolute-form request target
	}
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		path = rawPath
	}
	h := r.Header
	rec := Request{
		Method:   r.Method,
		Path:     path,
		RawPath:  rawPath,
		RawQuery: rawQuery,
		Query:    ParseQuery(rawQuery),
		Headers:  NormaliseHeaders(h),
	}
	if len(body) > 0 {
		if json.Valid(body) {
			rec.Body = append(json.RawMessage(nil), body...)
		} else {
			t := string(body)
			rec.BodyText = &t
		}
	}
	return rec
}

// ParseQuery decodes a raw query string into ordered pairs the way
// URLSearchParams does: split on '&' (empty parts skipped), then on the
// first '='; '+' is a space and %XX are bytes. Invalid escapes are kept as
// they are.
func ParseQuery(raw string) []Pair {
	out := []Pair{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, Pair{formDecode(name), formDecode(value)})
	}
	return out
}

func formDecode(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	// Decode what can be decoded, as URLSearchParams does.
	s = strings.ReplaceAll(s, "+", " ")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// droppedHeaders are transport and runtime details, never compared.
var droppedHeaders = map[string]bool{
	"host": true, "connection": true, "keep-alive": true, "content-length": true,
	"transfer-encoding": true, "accept-encoding": true, "user-agent": true,
}

// droppedDefaults are dropped only with the fetch runtime's default value.
var droppedDefaults = map[string]string{"accept": "*/*", "accept-language": "*"}

// NormaliseHeaders applies the recorder's header normalisation: lower-case
// names, transport headers and sec-* dropped, runtime defaults dropped,
// x-client-info cut to its name part, several values joined with ", ".
func NormaliseHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n := strings.ToLower(k)
		if droppedHeaders[n] || strings.HasPrefix(n, "sec-") {
			continue
		}
		v := strings.Join(h[k], ", ")
		if prev, ok := out[n]; ok { // same name in two spellings
			v = prev + ", " + v
		}
		if d, ok := droppedDefaults[n]; ok && d == v {
			continue
		}
		if n == "x-client-info" {
			name, _, _ := strings.Cut(v, "/")
			v = strings.TrimSpace(name)
		}
		out[n] = v
	}
	return out
}
