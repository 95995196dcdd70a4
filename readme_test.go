package supabase

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's "supabase-js → Go" table is checked against the code, so a
// rename cannot leave it naming calls that no longer exist, and against the
// conformance corpus, so it names every call the corpus makes.

// apiIndex is the package's exported surface, read from its source: what
// each name evaluates to (a type name, "" when it does not matter).
type apiIndex struct {
	pkg     map[string]string            // package-level func (its result), type, const or var
	members map[string]map[string]string // type -> method (its result) or field (its type)
}

// astTypeName names the type of e when it is one of the package's named types.
func astTypeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return astTypeName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.IndexExpr:
		return astTypeName(e.X)
	case *ast.IndexListExpr:
		return astTypeName(e.X)
	}
	return ""
}

func firstResult(ft *ast.FuncType) string {
	if ft.Results == nil || len(ft.Results.List) == 0 {
		return ""
	}
	return astTypeName(ft.Results.List[0].Type)
}

func loadAPIIndex(t *testing.T) *apiIndex {
	t.Helper()
	fset := token.NewFileSet()
	idx := &apiIndex{pkg: map[string]string{}, members: map[string]map[string]string{}}
	member := func(typ, name, result string) {
		if idx.members[typ] == nil {
			idx.members[typ] = map[string]string{}
		}
		idx.members[typ][name] = result
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					idx.pkg[d.Name.Name] = firstResult(d.Type)
				} else {
					member(astTypeName(d.Recv.List[0].Type), d.Name.Name, firstResult(d.Type))
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						idx.pkg[s.Name.Name] = s.Name.Name
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								for _, n := range fl.Names {
									member(s.Name.Name, n.Name, astTypeName(fl.Type))
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							idx.pkg[n.Name] = ""
						}
					}
				}
			}
		}
	}
	return idx
}

// readmeVars are the variables the table uses, with their types.
var readmeVars = map[string]string{"c": "Client", "q": "Query", "v": "Verifier", "sess": "Session"}

// resolve checks every exported name in e against idx and returns the type
// e evaluates to (a call evaluates to its callee's result).
func (idx *apiIndex) resolve(e ast.Expr, errs *[]string) string {
	fail := func(format string, args ...any) string {
		*errs = append(*errs, fmt.Sprintf(format, args...))
		return ""
	}
	switch e := e.(type) {
	case *ast.Ident:
		if typ, ok := readmeVars[e.Name]; ok {
			return typ
		}
		if !e.IsExported() {
			return "" // an argument: ctx, email, opts, ...
		}
		typ, ok := idx.pkg[e.Name]
		if !ok {
			return fail("supabase.%s does not exist", e.Name)
		}
		return typ
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "supabase" {
			typ, ok := idx.pkg[e.Sel.Name]
			if !ok {
				return fail("supabase.%s does not exist", e.Sel.Name)
			}
			return typ
		}
		recv := idx.resolve(e.X, errs)
		if recv == "" {
			return fail("cannot tell the type of the receiver of %s", e.Sel.Name)
		}
		typ, ok := idx.members[recv][e.Sel.Name]
		if !ok {
			return fail("%s has no method or field %s", recv, e.Sel.Name)
		}
		return typ
	case *ast.CallExpr:
		for _, a := range e.Args {
			idx.resolve(a, errs)
		}
		return idx.resolve(e.Fun, errs)
	case *ast.IndexExpr:
		return idx.resolve(e.X, errs) // a type argument such as T
	case *ast.CompositeLit:
		typ := idx.resolve(e.Type, errs)
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				key, _ := kv.Key.(*ast.Ident)
				if _, ok := idx.members[typ][key.String()]; key == nil || !ok {
					fail("%s has no field %v", typ, kv.Key)
				}
				el = kv.Value
			}
			idx.resolve(el, errs)
		}
		return typ
	case *ast.BasicLit:
		return ""
	}
	return fail("unexpected %T", e)
}

// readmeJSTable returns the rows of the README's "supabase-js → Go" table:
// the supabase-js cell, the Go cell, the notes.
func readmeJSTable(t *testing.T) [][3]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(b), "\n## supabase-js → Go\n")
	require.True(t, ok, "README.md has no supabase-js → Go section")
	sec, _, _ = strings.Cut(sec, "\n## ")
	var rows [][3]string
	for line := range strings.SplitSeq(sec, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| supabase-js |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cells, 3, "row %q", line)
		rows = append(rows, [3]string{strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])})
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// TestReadmeJSToGoNamesExist: every Go expression in the table (Go column
// and notes) names functions, types, methods and fields that exist, on the
// types the chain leads to.
func TestReadmeJSToGoNamesExist(t *testing.T) {
	idx := loadAPIIndex(t)
	rows := readmeJSTable(t)
	require.Greater(t, len(rows), 50)
	checked := 0
	for _, row := range rows {
		if strings.HasPrefix(row[0], "**") {
			continue // a group heading
		}
		spans := codeSpan.FindAllStringSubmatch(row[1], -1)
		assert.NotEmpty(t, spans, "row %q has no Go name", row[0])
		for _, m := range append(spans, codeSpan.FindAllStringSubmatch(row[2], -1)...) {
			e, err := parser.ParseExpr(m[1])
			if !assert.NoError(t, err, "row %q: %q is not a Go expression", row[0], m[1]) {
				continue
			}
			var errs []string
			idx.resolve(e, &errs)
			assert.Empty(t, errs, "row %q: %s", row[0], m[1])
			checked++
		}
	}
	t.Logf("%d Go expressions checked", checked)
}

// TestReadmeJSToGoCoversCorpus: every supabase-js call of the conformance
// corpora (Storage's excepted: its own table lists them) is in the table.
func TestReadmeJSToGoCoversCorpus(t *testing.T) {
	var js strings.Builder
	for _, row := range readmeJSTable(t) {
		js.WriteString(row[0] + "\n")
	}
	words := map[string]bool{}
	for _, w := range regexp.MustCompile(`[A-Za-z][A-Za-z.]*`).FindAllString(js.String(), -1) {
		words[w] = true
		for p := range strings.SplitSeq(w, ".") {
			words[p] = true
		}
	}
	files, err := filepath.Glob("testdata/conformance*/cases/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	calls := map[string]bool{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		var cases []struct {
			Steps []struct {
				Target string
				Chain  []struct{ Call string }
			}
		}
		require.NoError(t, json.Unmarshal(b, &cases), name)
		for _, c := range cases {
			for _, s := range c.Steps {
				for i, ch := range s.Chain {
					switch {
					case s.Target == "storage":
					case strings.HasPrefix(s.Target, "auth") && i == 0:
						calls[s.Target+"."+ch.Call] = true // auth.mfa.enroll
					case s.Target == "functions":
						calls["functions."+ch.Call] = true
					default:
						calls[ch.Call] = true // a query method
					}
				}
			}
		}
	}
	require.Greater(t, len(calls), 80)
	for call := range calls {
		assert.True(t, words[call], "README's supabase-js → Go table lacks %s", call)
	}
}
