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

// TestDocLinks checks that every [Name] in the package's doc comments is a
// doc link that go doc and pkgsite resolve: go/doc/comment leaves a name it
// cannot resolve as plain text, brackets and all. Links into other
// packages must name a symbol that package declares.
func TestDocLinks(t *testing.T) {
	fset, files, pkg := parsePackage(t)
	docParser := pkg.Parser()
	external := externalSymbols{}
	links := 0

	for _, f := range files {
		file := filepath.Base(fset.Position(f.Package).Filename)
		for _, dc := range docComments(f) {
			where := fset.Position(dc.Group.Pos())
			d := docParser.Parse(dc.Group.Text())
			walkText(d, func(x comment.Text, _ bool) {
				switch x := x.(type) {
				case comment.Plain:
					for _, name := range bracketedNames(string(x)) {
						t.Errorf("%s:%d: %s is not a doc link: no exported name of this package or of an imported one", file, where.Line, name)
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
	if links == 0 {
		t.Error("no doc links found at all: the walk is broken")
	}
	t.Logf("%d doc links", links)
}

// TestDocCommentsLinkNames checks that a doc comment which names one of the
// package's exported identifiers links it: at least one mention in that
// comment must be a doc link such as [Client.From] or [ErrNotFound]; later
// mentions may stay plain. Text inside code blocks and links is not read.
//
// Many names are also English words (Client, Error, Query, Session, User,
// Rows, Page), so a plain mention is taken as the identifier only when it
// cannot be a word:
//   - a dotted name, Type.Method or Type.Field (Client.From, Session.User);
//   - a name with a capital after its first letter together with a lower
//     case letter, or with a digit or underscore (ErrNotFound,
//     WithHTTPClient, AAL1); all-capital names such as AAL read as
//     abbreviations and are exempt;
//   - a name written as code: a pointer, *Error, or a call or
//     instantiation, One(q) or Page[T];
//   - a name in alwaysLinked, unless it starts a sentence.
//
// Part of a hyphenated word or a path (X-Client-Info, /v1/User) is not a
// mention. A name qualified with the package, as in supabase.NewClient, is
// the plain name. A bare method or field name (SignUp for
// AuthClient.SignUp) is not read as a mention: many are members of
// several types, and some are also wire or protocol names.
//
// A comment need not link what it documents: a declaration's own name, a
// method's Type.Method or a field's Type.Field, and the type a method or
// field belongs to (the reader is on that type's page already; linking it
// is allowed). In the comments of a type and of its methods and fields, a
// bare name that is one of the type's fields or methods means that member
// (a field WeakPassword of type *WeakPassword, PageResult's Rows), not a
// top-level name.
func TestDocCommentsLinkNames(t *testing.T) {
	fset, files, pkg := parsePackage(t)
	docParser := pkg.Parser()
	names := exportedNames(pkg)
	for name := range alwaysLinked {
		if !names[name] {
			t.Errorf("alwaysLinked: %s is not an exported name of the package", name)
		}
	}
	mentions := 0

	for _, f := range files {
		file := filepath.Base(fset.Position(f.Package).Filename)
		for _, dc := range docComments(f) {
			d := docParser.Parse(dc.Group.Text())
			linked := map[string]bool{dc.Type: true}
			for _, name := range dc.Names {
				linked[name] = true
			}
			var plain []string // unlinked mentions, in order
			prev := ""         // the text before x, for sentence starts
			walkText(d, func(x comment.Text, inLink bool) {
				switch x := x.(type) {
				case *comment.DocLink:
					if x.ImportPath == "" {
						linked[docLinkName(x)] = true
					}
					prev = docLinkName(x)
				case comment.Plain:
					if !inLink {
						plain = append(plain, identMentions(prev, string(x), names)...)
					}
					prev = string(x)
				}
			})
			reported := map[string]bool{}
			for _, name := range plain {
				mentions++
				if linked[name] || reported[name] || names[dc.Type+"."+name] {
					continue
				}
				reported[name] = true
				t.Errorf("%s:%d: %s is named but not linked in this comment: write [%s] at its first mention",
					file, fset.Position(dc.Group.Pos()).Line, name, name)
			}
		}
	}
	if len(names) == 0 || mentions == 0 {
		t.Errorf("found %d exported names and %d mentions of them: the walk is broken", len(names), mentions)
	}
}

// alwaysLinked lists one-word exported names that, capitalised inside a
// sentence, can only mean the identifier: the package's one-word
// functions. Types such as Client and Session are left out: prose uses
// them as the names of the things.
var alwaysLinked = map[string]bool{
	"All": true, "One": true, "Rows": true, "Page": true,
	"Head": true, "Ascending": true, "Descending": true,
}

// identWord matches a Go identifier or a dotted chain of them.
var identWord = regexp.MustCompile(`[\pL_][\pL\pN_]*(?:\.[\pL_][\pL\pN_]*)*`)

// identMentions returns the exported names of the package, from names,
// that s mentions unmistakably as identifiers (see
// TestDocCommentsLinkNames); prev is the text of the comment just before
// s. A dotted chain mentions its longest prefix that is a name:
// Client.Auth.SignUp mentions Client.Auth; Client.do mentions only Client,
// which as a one-word name need not be linked.
func identMentions(prev, s string, names map[string]bool) []string {
	var out []string
	for _, m := range identWord.FindAllStringIndex(s, -1) {
		before, _ := utf8.DecodeLastRuneInString(s[:m[0]])
		if m[0] == 0 {
			before, _ = utf8.DecodeLastRuneInString(prev)
		}
		after, _ := utf8.DecodeRuneInString(s[m[1]:])
		if strings.ContainsRune("/.-", before) || unicode.IsDigit(before) || strings.ContainsRune("/-", after) {
			continue // part of a path, a hyphenated word or a number
		}
		parts := strings.Split(s[m[0]:m[1]], ".")
		if len(parts) > 1 && parts[0] == "supabase" {
			parts = parts[1:]
		}
		for n := len(parts); n > 0; n-- {
			name := strings.Join(parts[:n], ".")
			if !names[name] {
				continue
			}
			code := before == '*' || n == len(parts) && (after == '(' || after == '[')
			if n > 1 || identShaped(name) || code ||
				alwaysLinked[name] && !sentenceStart(prev+s[:m[0]]) {
				out = append(out, name)
			}
			break
		}
	}
	return out
}

// sentenceStart reports whether a word after text begins a sentence.
func sentenceStart(text string) bool {
	text = strings.TrimRight(text, " \t\n")
	r, _ := utf8.DecodeLastRuneInString(text)
	return text == "" || strings.ContainsRune(".:!?", r)
}

// identShaped reports whether name cannot be an English word: an upper
// case letter after the first letter together with a lower case one, or a
// digit or underscore.
func identShaped(name string) bool {
	lower, innerUpper := false, false
	for i, r := range name {
		switch {
		case unicode.IsDigit(r) || r == '_':
			return true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r) && i > 0:
			innerUpper = true
		}
	}
	return lower && innerUpper
}

// exportedNames returns what a doc link in this package can name and a
// reader can find on its page: the exported top-level names, and
// Type.Method and Type.Field of exported types, interface methods
// included. These are the names go/doc resolves doc links against.
func exportedNames(pkg *doc.Package) map[string]bool {
	names := map[string]bool{}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, n := range v.Names {
				if token.IsExported(n) {
					names[n] = true
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, fn := range fs {
			if token.IsExported(fn.Name) {
				names[prefix+fn.Name] = true
			}
		}
	}
	values(pkg.Consts)
	values(pkg.Vars)
	funcs("", pkg.Funcs)
	for _, typ := range pkg.Types {
		// A constructor or a typed constant of an unexported type is still
		// an exported name of the package.
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		if !token.IsExported(typ.Name) {
			continue
		}
		names[typ.Name] = true
		funcs(typ.Name+".", typ.Methods)
		var fields *ast.FieldList
		var spec *ast.TypeSpec
		for _, s := range typ.Decl.Specs {
			if s := s.(*ast.TypeSpec); s.Name.Name == typ.Name {
				spec = s
			}
		}
		switch ty := spec.Type.(type) {
		case *ast.StructType:
			fields = ty.Fields
		case *ast.InterfaceType:
			fields = ty.Methods
		}
		if fields == nil {
			continue
		}
		for _, fld := range fields.List {
			for _, n := range fld.Names {
				if n.IsExported() {
					names[typ.Name+"."+n.Name] = true
				}
			}
		}
	}
	return names
}

// parsePackage parses the package's non-test files, comments included,
// and builds go/doc's view of them with go/doc's own symbol lookups, as go
// doc and pkgsite use them: the package's declarations (with fields and
// methods) and the names of its imports.
func parsePackage(t *testing.T) (*token.FileSet, []*ast.File, *doc.Package) {
	t.Helper()
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
	pkg, err := doc.NewFromFiles(fset, files, "github.com/supabase-go/supabase", doc.AllDecls|doc.PreserveAST)
	if err != nil {
		t.Fatal(err)
	}
	return fset, files, pkg
}

// A docComment is a doc comment, the names of what it documents as a doc
// link spells them (a type, func, var or const, Type.Method, Type.Field),
// and the type it is about: the one it documents or whose method or field
// it documents.
type docComment struct {
	Group *ast.CommentGroup
	Names []string
	Type  string
}

// docComments returns the doc comments of f: the package comment and those
// of its declarations, their specs, and struct and interface fields. Line
// comments and comments inside function bodies are not documentation.
func docComments(f *ast.File) []docComment {
	var out []docComment
	add := func(cg *ast.CommentGroup, typ string, names ...string) {
		if cg != nil {
			out = append(out, docComment{cg, names, typ})
		}
	}
	add(f.Doc, "")
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok {
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				recv := receiverName(fd.Recv.List[0].Type)
				add(fd.Doc, recv, recv+"."+fd.Name.Name)
			} else {
				add(fd.Doc, "", fd.Name.Name)
			}
			continue
		}
		var typeName string // the type whose fields are being walked
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				typ := ""
				if ts, ok := n.Specs[0].(*ast.TypeSpec); ok && len(n.Specs) == 1 {
					typ = ts.Name.Name
				}
				add(n.Doc, typ, specNames(n.Specs)...)
			case *ast.TypeSpec:
				add(n.Doc, n.Name.Name, n.Name.Name)
				typeName = n.Name.Name
			case *ast.ValueSpec:
				add(n.Doc, "", specNames([]ast.Spec{n})...)
			case *ast.Field:
				var names []string
				for _, name := range n.Names {
					names = append(names, typeName+"."+name.Name)
				}
				add(n.Doc, typeName, names...)
			case *ast.FuncLit:
				return false
			}
			return true
		})
	}
	return out
}

// specNames returns the names the specs declare.
func specNames(specs []ast.Spec) []string {
	var out []string
	for _, spec := range specs {
		switch s := spec.(type) {
		case *ast.TypeSpec:
			out = append(out, s.Name.Name)
		case *ast.ValueSpec:
			for _, n := range s.Names {
				out = append(out, n.Name)
			}
		}
	}
	return out
}

// walkText calls fn for every run of text in d outside code blocks, and
// tells it whether the text is part of a link's text.
func walkText(d *comment.Doc, fn func(x comment.Text, inLink bool)) {
	var texts func([]comment.Text, bool)
	texts = func(ts []comment.Text, inLink bool) {
		for _, t := range ts {
			fn(t, inLink)
			switch t := t.(type) {
			case *comment.Link:
				texts(t.Text, true)
			case *comment.DocLink:
				texts(t.Text, true)
			}
		}
	}
	var blocks func([]comment.Block)
	blocks = func(bs []comment.Block) {
		for _, b := range bs {
			switch b := b.(type) {
			case *comment.Paragraph:
				texts(b.Text, false)
			case *comment.Heading:
				texts(b.Text, false)
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
