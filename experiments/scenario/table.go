package scenario

import (
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// decoder collects problems while a scenario tree is decoded.
type decoder struct {
	file  string
	pos   positions
	open  dist.Opener
	files fs.FS
	errs  []Problem
	warns []Problem
	// trafficZoneKey is the key that says where a traffic source's clients
	// are (zone, zones, region or regions), for messages.
	trafficZoneKey map[string]string
}

// line finds the line of path, or of its nearest ancestor written in the file.
func (d *decoder) line(path string) int {
	for p := path; p != ""; {
		if l, ok := d.pos[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (d *decoder) errorf(path, format string, args ...any) {
	d.errs = append(d.errs, Problem{File: d.file, Line: d.line(path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnf(path, format string, args ...any) {
	d.warns = append(d.warns, Problem{File: d.file, Line: d.line(path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

// table is one TOML table being decoded. Every key read is remembered, so
// that done can report the keys nobody asked for.
type table struct {
	d     *decoder
	path  string
	m     map[string]any
	known []string
}

func (d *decoder) table(path string, m map[string]any) *table {
	return &table{d: d, path: path, m: m}
}

func (t *table) key(k string) string { return join(t.path, k) }

func (t *table) get(k string) (any, bool) {
	t.known = append(t.known, k)
	v, ok := t.m[k]
	return v, ok
}

func (t *table) has(k string) bool { _, ok := t.m[k]; return ok }

// done reports unknown keys. planned maps keys of features not available
// yet to the explanation given.
func (t *table) done(planned map[string]string) {
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if contains(t.known, k) {
			continue
		}
		if why, ok := planned[k]; ok {
			t.d.errorf(t.key(k), "%s", why)
			continue
		}
		allowed := dedupe(t.known)
		msg := "unknown key"
		if s := suggest(k, allowed); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		msg += "; allowed here: " + strings.Join(allowed, ", ")
		t.d.errorf(t.key(k), "%s", msg)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	var out []string
	for _, x := range list {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

func (t *table) str(k, def string) string {
	v, ok := t.get(k)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		t.d.errorf(t.key(k), "want a string, got %s", typeName(v))
		return def
	}
	return s
}

func (t *table) boolean(k string, def bool) bool {
	v, ok := t.get(k)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		t.d.errorf(t.key(k), "want true or false, got %s", typeName(v))
		return def
	}
	return b
}

// number reads an integer or float.
func (t *table) number(k string) (float64, bool) {
	v, ok := t.get(k)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.d.errorf(t.key(k), "want a finite number, got %v", x)
			return 0, false
		}
		return x, true
	}
	t.d.errorf(t.key(k), "want a number, got %s", typeName(v))
	return 0, false
}

// integer reads a whole number within [lo, hi]; "unlimited" is accepted
// (and returned as -1) when allowUnlimited.
func (t *table) integer(k string, def, lo, hi int64, allowUnlimited bool) int64 {
	v, ok := t.get(k)
	if !ok {
		return def
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) {
			t.d.errorf(t.key(k), "want a whole number, got %v", x)
			return def
		}
		if x < float64(lo) || x > float64(hi) { // before converting: 1e308 is no int64
			t.d.errorf(t.key(k), "must be from %d to %d%s, got %v", lo, hi, orUnlimited(allowUnlimited), x)
			return def
		}
		n = int64(x)
	case string:
		if allowUnlimited && strings.EqualFold(x, "unlimited") {
			return -1
		}
		t.d.errorf(t.key(k), "want a whole number%s, got %q", orUnlimited(allowUnlimited), x)
		return def
	default:
		t.d.errorf(t.key(k), "want a whole number%s, got %s", orUnlimited(allowUnlimited), typeName(v))
		return def
	}
	if n < lo || n > hi {
		t.d.errorf(t.key(k), "must be from %d to %d%s, got %d", lo, hi, orUnlimited(allowUnlimited), n)
		return def
	}
	return n
}

func orUnlimited(b bool) string {
	if b {
		return ` or "unlimited"`
	}
	return ""
}

// duration reads a Go duration string ("250ms").
func (t *table) duration(k string, def sim.Time) sim.Time {
	v, ok := t.get(k)
	if !ok {
		return def
	}
	return t.d.durationValue(t.key(k), v, def)
}

func (d *decoder) durationValue(path string, v any, def sim.Time) sim.Time {
	switch x := v.(type) {
	case string:
		ns, err := dist.ParseDuration(x)
		if err != nil {
			d.errorf(path, "%v", err)
			return def
		}
		if ns > float64(1000*24*sim.Hour) {
			d.errorf(path, "%q is longer than 1000 days", x)
			return def
		}
		return sim.Time(ns)
	case int64:
		if x == 0 {
			return 0
		}
		d.errorf(path, "%d has no unit: write a duration string such as \"%ds\" or \"%dms\"", x, x, x)
		return def
	}
	d.errorf(path, "want a duration string such as \"250ms\" or \"30s\", got %s", typeName(v))
	return def
}

// distribution reads a distribution string.
func (t *table) distribution(k string) dist.Dist {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	return t.d.distValue(t.key(k), v)
}

func (d *decoder) distValue(path string, v any) dist.Dist {
	s, ok := v.(string)
	if !ok {
		d.errorf(path, "want a distribution such as \"exp(5ms)\" or a duration such as \"5ms\", got %s", typeName(v))
		return nil
	}
	x, err := dist.Parse(s, d.open)
	if err != nil {
		d.errorf(path, "%v", err)
		return nil
	}
	return x
}

// rate reads a rate: a number per second, or a string "5k/s", "300/min",
// "2.5k", "10/h".
func (t *table) rate(k string) (float64, bool) {
	v, ok := t.get(k)
	if !ok {
		return 0, false
	}
	r, err := parseRate(v)
	if err != nil {
		t.d.errorf(t.key(k), "%v", err)
		return 0, false
	}
	return r, true
}

func parseRate(v any) (float64, error) {
	var r float64
	switch x := v.(type) {
	case int64:
		r = float64(x)
	case float64:
		r = x
	case string:
		s := strings.TrimSpace(strings.ToLower(x))
		per := 1.0
		if num, unit, ok := strings.Cut(s, "/"); ok {
			s = strings.TrimSpace(num)
			switch strings.TrimSpace(unit) {
			case "s", "sec", "second":
			case "min", "m", "minute":
				per = 60
			case "h", "hour":
				per = 3600
			default:
				return 0, fmt.Errorf("%q: unknown time unit %q; use /s, /min or /h", x, unit)
			}
		}
		mult := 1.0
		switch {
		case strings.HasSuffix(s, "k"):
			mult, s = 1e3, strings.TrimSuffix(s, "k")
		case strings.HasSuffix(s, "m"):
			mult, s = 1e6, strings.TrimSuffix(s, "m")
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a rate; write 1200, \"5k/s\", \"300/min\" or \"10/h\"", x)
		}
		r = f * mult / per
	default:
		return 0, fmt.Errorf("want a rate such as 1200 or \"5k/s\", got %s", typeName(v))
	}
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > 1e9 {
		return 0, fmt.Errorf("rate must be from 0 to 1e9 per second, got %v", v)
	}
	return r, nil
}

// sub returns the sub-table k, or nil.
func (t *table) sub(k string) *table {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.d.errorf(t.key(k), "want a table, got %s", typeName(v))
		return nil
	}
	return t.d.table(t.key(k), m)
}

// named returns the sub-tables of k, sorted by name: [service.web],
// [service.db], ... Names must be usable in paths.
func (t *table) named(k string) []*table {
	s := t.sub(k)
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.m))
	for n := range s.m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*table
	for _, n := range names {
		s.known = append(s.known, n)
		m, ok := s.m[n].(map[string]any)
		if !ok {
			t.d.errorf(s.key(n), "want a table [%s.%s], got %s", k, n, typeName(s.m[n]))
			continue
		}
		if !validName(n) {
			t.d.errorf(s.key(n), "name %q: use letters, digits, '_' and '-' only", n)
			continue
		}
		out = append(out, t.d.table(s.key(n), m))
	}
	return out
}

func validName(n string) bool {
	if n == "" {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// name is the last element of the table's path.
func (t *table) name() string { return t.path[strings.LastIndexByte(t.path, '.')+1:] }

// list reads an array of values.
func (t *table) list(k string) []any {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []any:
		return x
	case []map[string]any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out
	}
	t.d.errorf(t.key(k), "want an array, got %s", typeName(v))
	return nil
}

func elem(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// tables returns the tables of the array t.key (an array of inline tables
// or [[tables]]), reporting any other element against the example form.
func (d *decoder) tables(t *table, key, example string) []*table {
	var out []*table
	for i, v := range t.list(key) {
		path := elem(t.key(key), i)
		m, ok := v.(map[string]any)
		if !ok {
			d.errorf(path, "want %s, got %s", example, typeName(v))
			continue
		}
		out = append(out, d.table(path, m))
	}
	return out
}
