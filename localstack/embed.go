package localstack

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// relationship is a foreign key between a relation and one it embeds.
type relationship struct {
	name       string // constraint
	schema     string
	table      string // the embedded table
	toOne      bool
	parentCols []string
	childCols  []string
	cardinal   string // many-to-one, one-to-many or one-to-one
	fkTable    string // the table holding the foreign key, for messages
	fkCols     []string
	refTable   string
	refCols    []string
}

// relationships finds the foreign keys between parent and child in schema,
// in both directions, as PostgREST's schema cache would.
func relationships(ctx context.Context, db dbtx, schema, parent, child string) ([]relationship, error) {
	rows, err := db.Query(ctx, `SELECT c.conname::text, cl.relname::text, fcl.relname::text,
			array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
			array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
			EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indisunique
				AND i.indkey::int2[] @> c.conkey AND c.conkey @> i.indkey::int2[])
		FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_class fcl ON fcl.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = fcl.relnamespace
		WHERE c.contype = 'f' AND n.nspname = $1 AND fn.nspname = $1
			AND ((cl.relname = $2 AND fcl.relname = $3) OR (cl.relname = $3 AND fcl.relname = $2))
		ORDER BY c.conname`, schema, parent, child)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []relationship
	for rows.Next() {
		var name, table, ftable string
		var cols, fcols []string
		var unique bool
		if err := rows.Scan(&name, &table, &ftable, &cols, &fcols, &unique); err != nil {
			return nil, err
		}
		base := relationship{name: name, schema: schema, table: child, fkTable: table, fkCols: cols, refTable: ftable, refCols: fcols}
		if table == parent && ftable == child {
			r := base
			r.toOne, r.parentCols, r.childCols, r.cardinal = true, cols, fcols, "many-to-one"
			if unique {
				r.cardinal = "one-to-one"
			}
			out = append(out, r)
		}
		if table == child && ftable == parent {
			r := base
			r.toOne, r.parentCols, r.childCols, r.cardinal = unique, fcols, cols, "one-to-many"
			if unique {
				r.cardinal = "one-to-one"
			}
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// resolveEmbeds finds the relationship of every embedded resource in items,
// answering PostgREST's PGRST200 (none) and PGRST201 (ambiguous) errors.
// db is the request's transaction when there is one already, so that a
// request never waits for a second connection while holding one.
func (c *restCall) resolveEmbeds(ctx context.Context, db dbtx, parent string, items []selectItem) error {
	for _, it := range items {
		e := it.embed
		if e == nil {
			continue
		}
		rels, err := relationships(ctx, db, c.schema, parent, e.name)
		if err != nil {
			return err
		}
		if e.hint != "" {
			rels = slices.DeleteFunc(rels, func(r relationship) bool {
				return r.name != e.hint && !slices.Contains(r.fkCols, e.hint) && !slices.Contains(r.refCols, e.hint)
			})
		}
		switch len(rels) {
		case 0:
			target := e.name
			if e.hint != "" {
				target += "' using the hint '" + e.hint
			}
			return restErr(http.StatusBadRequest, "PGRST200",
				fmt.Sprintf("Could not find a relationship between '%s' and '%s' in the schema cache", parent, e.name)).
				withDetails(fmt.Sprintf("Searched for a foreign key relationship between '%s' and '%s' in the schema '%s', but no matches were found.", parent, target, c.schema))
		case 1:
			e.rel = &rels[0]
		default:
			var details []map[string]string
			var hints []string
			for _, r := range rels {
				details = append(details, map[string]string{
					"cardinality":  r.cardinal,
					"embedding":    parent + " with " + e.name,
					"relationship": fmt.Sprintf("%s using %s(%s) and %s(%s)", r.name, r.fkTable, strings.Join(r.fkCols, ", "), r.refTable, strings.Join(r.refCols, ", ")),
				})
				hints = append(hints, "'"+e.name+"!"+r.name+"'")
			}
			return restErr(http.StatusMultipleChoices, "PGRST201",
				fmt.Sprintf("Could not embed because more than one relationship was found for '%s' and '%s'", parent, e.name)).
				withDetails(details).
				withHint(fmt.Sprintf("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.", e.name, strings.Join(hints, ", ")))
		}
		if e.spread && slices.ContainsFunc(e.sel, func(it selectItem) bool { return it.star }) {
			// A spread needs the names of the columns it brings up.
			cols, err := columns(ctx, db, c.schema, e.name)
			if err != nil {
				return err
			}
			var sel []selectItem
			for _, it := range e.sel {
				if !it.star {
					sel = append(sel, it)
					continue
				}
				for _, col := range cols {
					sel = append(sel, selectItem{col: colRef{name: col}, alias: col})
				}
			}
			e.sel = sel
		}
		if err := c.resolveEmbeds(ctx, db, e.name, e.sel); err != nil {
			return err
		}
	}
	return nil
}

// columns lists the columns of a table in their order.
func columns(ctx context.Context, db dbtx, schema, table string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT a.attname::text FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, schema, table)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func hasEmbeds(items []selectItem) bool {
	return slices.ContainsFunc(items, func(it selectItem) bool { return it.embed != nil })
}

// join renders the foreign key condition between an embedded resource
// (alias) and its parent relation.
func join(alias, parent string, r *relationship) string {
	parts := make([]string, len(r.childCols))
	for i := range r.childCols {
		parts[i] = ident(alias, r.childCols[i]) + " = " + ident(parent, r.parentCols[i])
	}
	return strings.Join(parts, " AND ")
}

func (b *builder) nextAlias() string {
	b.aliases++
	return "_e" + strconv.Itoa(b.aliases)
}

// embedSQL renders an embedded resource as a correlated subquery: an object
// (or null) for a to-one relationship, an array for a to-many one.
func (b *builder) embedSQL(parent string, e *embed) string {
	alias := b.nextAlias()
	where := join(alias, parent, e.rel)
	if len(e.where) > 0 {
		where += " AND " + b.conj(alias, e.where, " AND ")
	}
	inner := "SELECT " + b.selectList(alias, e.sel) + " FROM " + ident(e.rel.schema, e.rel.table) + " AS " + ident(alias) + " WHERE " + where
	if e.rel.toOne {
		return "(SELECT row_to_json(_x) FROM (" + inner + ") _x)"
	}
	inner += b.orderBy(alias, e.order) + b.limitOffset(e.limit, e.offset)
	return "(SELECT coalesce(json_agg(_x), '[]') FROM (" + inner + ") _x)"
}

// spreadColumn is one column a spread embed brings up to its parent.
type spreadColumn struct{ expr, key string }

// spreadSQL renders the items of a spread embed as columns of the parent:
// each one a value for a to-one relationship, an array of values for a
// to-many one.
func (b *builder) spreadSQL(parent string, e *embed) []spreadColumn {
	var out []spreadColumn
	for _, it := range e.sel {
		alias := b.nextAlias()
		var cols []spreadColumn
		switch {
		case it.embed != nil && it.embed.spread:
			cols = b.spreadSQL(alias, it.embed)
		case it.embed != nil:
			cols = []spreadColumn{{b.embedSQL(alias, it.embed), it.alias}}
		case it.star:
			continue // expanded to columns by resolveEmbeds
		default:
			cols = []spreadColumn{{b.col(alias, it.col), it.alias}}
		}
		where := join(alias, parent, e.rel)
		if len(e.where) > 0 {
			where += " AND " + b.conj(alias, e.where, " AND ")
		}
		for _, c := range cols {
			sub := "SELECT " + c.expr + " FROM " + ident(e.rel.schema, e.rel.table) + " AS " + ident(alias) + " WHERE " + where
			if !e.rel.toOne {
				sub = "SELECT coalesce(json_agg(_x.v), '[]') FROM (" + sub + b.orderBy(alias, e.order) + b.limitOffset(e.limit, e.offset) + ") AS _x(v)"
			}
			out = append(out, spreadColumn{"(" + sub + ")", c.key})
		}
	}
	return out
}

// innerConds renders the conditions that !inner embeds put on their parent:
// at least one related row passing the embed's filters.
func (b *builder) innerConds(parent string, items []selectItem) []string {
	var out []string
	for _, it := range items {
		e := it.embed
		if e == nil || !e.inner {
			continue
		}
		alias := b.nextAlias()
		where := join(alias, parent, e.rel)
		if len(e.where) > 0 {
			where += " AND " + b.conj(alias, e.where, " AND ")
		}
		for _, c := range b.innerConds(alias, e.sel) {
			where += " AND " + c
		}
		out = append(out, "EXISTS (SELECT FROM "+ident(e.rel.schema, e.rel.table)+" AS "+ident(alias)+" WHERE "+where+")")
	}
	return out
}
