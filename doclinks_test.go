package supabase

import (
	"go/ast"
	"go/build"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// pendingDocLinks lists bracketed names, as "file.go: [Name]", that are
// allowed not to resolve. It is for files whose comments are being
// rewritten together with their code elsewhere and get their doc links in
// that pass; an entry that no longer occurs fails the test, so the list
// only shrinks.
var pendingDocLinks = map[string]bool{
	// core.send's comment names the unexported refuseRedirects, which no
	// doc link can reach; transport.go's comments are revised with its
	// code.
	"transport.go: [refuseRedirects]": true,
}

// TestDocLinks checks that every [Name] in the package's doc comments is a
// doc link that go doc and pkgsite resolve: go/doc/comment leaves a name it
// cannot resolve as plain text, brackets and all. Links into other
// packages must name a symbol that package declares.
func TestDocLinks(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		// Every file, whatever its build constraints: each one's comments
		// are documentation on some platform.
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no package files found")
	}
	// go/doc's own lookups, as go doc and pkgsite use them: the package's
	// declarations (with fields and methods) and the names of its imports.
	pkg, err := doc.NewFromFiles(fset, files, "github.com/supabase-go/supabase", doc.AllDecls|doc.PreserveAST)
	if err != nil {
		t.Fatal(err)
	}
	docParser := pkg.Parser()
	external := externalSymbols{}
	seen := map[string]bool{}
	links := 0

	for _, f := range files {
		file := filepath.Base(fset.Position(f.Package).Filename)
		for _, cg := range docComments(f) {
			where := fset.Position(cg.Pos())
			d := docParser.Parse(cg.Text())
			walkText(d, func(x comment.Text) {
				switch x := x.(type) {
				case comment.Plain:
					for _, name := range bracketedNames(string(x)) {
						key := file + ": " + name
						seen[key] = true
						if !pendingDocLinks[key] {
							t.Errorf("%s:%d: %s is not a doc link: no exported name of this package or of an imported one", file, where.Line, name)
						}
					}
				case *comment.DocLink:
					links++
					if x.ImportPath != "" && !external.has(t, x) {
						t.Errorf("%s:%d: [%s]: no such package or symbol", file, where.Line, strings.TrimSuffix(x.ImportPath+"."+docLinkName(x), "."))
					}
				}
			})
		}
	}
	for key := range pendingDocLinks {
		if !seen[key] {
			t.Errorf("pendingDocLinks: %s no longer occurs; delete the entry", key)
		}
	}
	if links == 0 {
		t.Error("no doc links found at all: the walk is broken")
	}
}

// docComments returns the doc comments of f: the package comment and those
// of its declarations, their specs, and struct and interface fields. Line
// comments and comments inside function bodies are not documentation.
func docComments(f *ast.File) []*ast.CommentGroup {
	var out []*ast.CommentGroup
	add := func(cg *ast.CommentGroup) {
		if cg != nil {
			out = append(out, cg)
		}
	}
	add(f.Doc)
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok {
			add(fd.Doc)
			continue
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				add(n.Doc)
			case *ast.TypeSpec:
				add(n.Doc)
			case *ast.ValueSpec:
				add(n.Doc)
			case *ast.Field:
				add(n.Doc)
			case *ast.FuncLit:
				return false
			}
			return true
		})
	}
	return out
}

// walkText calls fn for every run of text in d outside code blocks.
func walkText(d *comment.Doc, fn func(comment.Text)) {
	var texts func([]comment.Text)
	texts = func(ts []comment.Text) {
		for _, t := range ts {
			fn(t)
			switch t := t.(type) {
			case *comment.Link:
				texts(t.Text)
			case *comment.DocLink:
				texts(t.Text)
			}
		}
	}
	var blocks func([]comment.Block)
	blocks = func(bs []comment.Block) {
		for _, b := range bs {
			switch b := b.(type) {
			case *comment.Paragraph:
				texts(b.Text)
			case *comment.Heading:
				texts(b.Text)
			case *comment.List:
				for _, item := range b.Items {
					blocks(item.Content)
				}
			}
		}
	}
	blocks(d.Content)
}

// bracketCandidate is what go/doc/comment would try as a doc link: an
// optional star and a dotted name between brackets.
var bracketCandidate = regexp.MustCompile(`\[\*?[\pL_][\pL\pN_]*(?:\.[\pL_][\pL\pN_]*)*\]`)

// bracketedNames returns the [Name] candidates in plain text, with the
// boundaries go/doc/comment requires of a doc link: punctuation, space or
// the edge of the text on both sides. Anything else (a[i], All[T]) is not
// meant as a link.
func bracketedNames(s string) []string {
	var out []string
	for _, m := range bracketCandidate.FindAllStringIndex(s, -1) {
		if m[0] > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:m[0]]); !linkBoundary(r) {
				continue
			}
		}
		if m[1] < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[m[1]:]); !linkBoundary(r) {
				continue
			}
		}
		out = append(out, s[m[0]:m[1]])
	}
	return out
}

func linkBoundary(r rune) bool {
	return unicode.IsPunct(r) || r == ' ' || r == '\t' || r == '\n'
}

func docLinkName(l *comment.DocLink) string {
	if l.Recv != "" {
		return l.Recv + "." + l.Name
	}
	return l.Name
}

// externalSymbols holds, per import path, the names a package declares at
// top level and as Type.Field or Type.Method, read from its source.
type externalSymbols map[string]map[string]bool

func (e externalSymbols) has(t *testing.T, l *comment.DocLink) bool {
	t.Helper()
	syms, ok := e[l.ImportPath]
	if !ok {
		syms = loadSymbols(t, l.ImportPath)
		e[l.ImportPath] = syms
	}
	if syms == nil {
		return false
	}
	if l.Name == "" { // [pkg] names the package itself
		return true
	}
	return syms[docLinkName(l)]
}

// loadSymbols parses the package's Go files (no type checking: this only
// needs names) or returns nil when the import path has no package.
func loadSymbols(t *testing.T, path string) map[string]bool {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bp, err := build.Default.Import(path, wd, 0)
	if err != nil {
		return nil
	}
	syms := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range slices.Concat(bp.GoFiles, bp.CgoFiles) {
		f, err := parser.ParseFile(fset, filepath.Join(bp.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					syms[d.Name.Name] = true
					continue
				}
				if recv := receiverName(d.Recv.List[0].Type); recv != "" {
					syms[recv+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							syms[n.Name] = true
						}
					case *ast.TypeSpec:
						syms[s.Name.Name] = true
						var fields *ast.FieldList
						switch ty := s.Type.(type) {
						case *ast.StructType:
							fields = ty.Fields
						case *ast.InterfaceType:
							fields = ty.Methods
						}
						if fields != nil {
							for _, fld := range fields.List {
								for _, n := range fld.Names {
									syms[s.Name.Name+"."+n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	return syms
}

// receiverName is the type name of a method receiver: T from T, *T, T[K]
// or *T[K, V].
func receiverName(x ast.Expr) string {
	for {
		switch e := x.(type) {
		case *ast.StarExpr:
			x = e.X
		case *ast.IndexExpr:
			x = e.X
		case *ast.IndexListExpr:
			x = e.X
		case *ast.Ident:
			return e.Name
		default:
			return ""
		}
	}
}
