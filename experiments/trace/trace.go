// Package trace reads recorded traffic for replay: per-request CSV files,
// NCSA Common Log Format access logs, and per-interval count files, plain or
// gzip-compressed. Readers stream: they hold one row at a time, so a trace
// of any length replays in constant memory.
package trace

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// Format is a trace file format.
type Format string

const (
	CSV    Format = "csv"    // one row per request
	Counts Format = "counts" // one row per interval: a time and a request count
	CLF    Format = "clf"    // NCSA Common Log Format (Apache/nginx access logs)
)

// Spec says how to read a trace file.
type Spec struct {
	File           string
	Format         Format
	TimeColumn     string   // CSV and counts: default "timestamp_s", else the first column
	TimeUnit       sim.Time // of the time column: default 1 s
	KeyColumn      string   // CSV: optional
	EndpointColumn string   // CSV: optional
	CountColumn    string   // counts: default "requests"
}

// Opener returns a function that opens the trace afresh from files (each
// run replays it from the start).
func Opener(files fs.FS, s Spec) func() (model.TraceReader, error) {
	return func() (model.TraceReader, error) {
		if files == nil {
			return nil, fmt.Errorf("%s: trace files cannot be read here", s.File)
		}
		f, err := files.Open(s.File)
		if err != nil {
			return nil, err
		}
		r, err := decompress(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
		if s.Format == CLF {
			return &clfReader{name: s.File, f: f, sc: bufio.NewScanner(r)}, nil
		}
		return newCSVReader(s, f, r)
	}
}

// decompress peeks at the first bytes and undoes gzip when it is there.
func decompress(f io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// Key turns a key column's value into a request key: whole numbers n ≥ 0
// are key n+1 (so that ids keep their order, for range sharding), anything
// else (a URL) is hashed.
func Key(s string) uint64 {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n < math.MaxUint64 {
		return n + 1
	}
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() | 1<<63 // hashed keys above every numeric one, never 0
}

type csvReader struct {
	spec                   Spec
	name                   string
	f                      io.Closer
	r                      *csv.Reader
	tcol, kcol, ecol, ccol int
	line                   int
	err                    error
	last                   sim.Time
}

func newCSVReader(s Spec, f io.Closer, r io.Reader) (*csvReader, error) {
	c := &csvReader{spec: s, name: s.File, f: f, r: csv.NewReader(r), kcol: -1, ecol: -1, ccol: -1, last: math.MinInt64}
	c.r.ReuseRecord = true
	c.r.FieldsPerRecord = -1
	header, err := c.r.Read()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: reading the header: %v", s.File, err)
	}
	c.line = 1
	col := func(name, what string, required bool, def int) (int, error) {
		if name == "" {
			return def, nil
		}
		for i, h := range header {
			if strings.TrimSpace(h) == name {
				return i, nil
			}
		}
		if !required && def >= 0 {
			return def, nil
		}
		return -1, fmt.Errorf("%s: no %s column %q (columns: %s)", s.File, what, name, strings.Join(header, ", "))
	}
	tname := s.TimeColumn
	if tname == "" {
		tname = "timestamp_s"
	}
	if c.tcol, err = col(tname, "time", s.TimeColumn != "", 0); err != nil {
		f.Close()
		return nil, err
	}
	if c.kcol, err = col(s.KeyColumn, "key", true, -1); err == nil {
		c.ecol, err = col(s.EndpointColumn, "endpoint", true, -1)
	}
	if err == nil && s.Format == Counts {
		cname := s.CountColumn
		if cname == "" {
			cname = "requests"
		}
		c.ccol, err = col(cname, "count", true, -1)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

func (c *csvReader) fail(format string, args ...any) (model.TraceRow, bool) {
	c.err = fmt.Errorf("%s:%d: %s", c.name, c.line, fmt.Sprintf(format, args...))
	return model.TraceRow{}, false
}

func (c *csvReader) Next() (model.TraceRow, bool) {
	if c.err != nil {
		return model.TraceRow{}, false
	}
	rec, err := c.r.Read()
	if err == io.EOF {
		return model.TraceRow{}, false
	}
	c.line++
	if err != nil {
		return c.fail("%v", err)
	}
	get := func(i int) (string, bool) {
		if i < 0 || i >= len(rec) {
			return "", false
		}
		return strings.TrimSpace(rec[i]), true
	}
	var row model.TraceRow
	ts, ok := get(c.tcol)
	t, err := strconv.ParseFloat(ts, 64)
	if !ok || err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
		return c.fail("time %q is not a number", ts)
	}
	unit := c.spec.TimeUnit
	if unit <= 0 {
		unit = sim.Second
	}
	row.At = sim.Time(math.Round(t * float64(unit)))
	if row.At < c.last {
		return c.fail("time %s goes back (rows must be in time order)", ts)
	}
	c.last = row.At
	if c.kcol >= 0 {
		k, _ := get(c.kcol)
		row.Key = Key(k)
	}
	if c.ecol >= 0 {
		row.Endpoint, _ = get(c.ecol)
	}
	if c.ccol >= 0 {
		cs, _ := get(c.ccol)
		n, err := strconv.ParseInt(cs, 10, 64)
		if err != nil || n < 0 {
			return c.fail("count %q is not a whole number ≥ 0", cs)
		}
		row.Count = n
	}
	return row, true
}

func (c *csvReader) Err() error   { return c.err }
func (c *csvReader) Close() error { return c.f.Close() }

// clfReader reads NCSA Common Log Format lines:
// host ident user [01/Aug/1995:00:00:01 -0400] "GET /path HTTP/1.0" 200 1839
// Each line is a request at its timestamp (1 s resolution), keyed by its
// path, with its method as endpoint.
type clfReader struct {
	name string
	f    io.Closer
	sc   *bufio.Scanner
	line int
	err  error
	t0   time.Time
	last sim.Time
}

const clfTime = "02/Jan/2006:15:04:05 -0700"

func (c *clfReader) Next() (model.TraceRow, bool) {
	for c.err == nil && c.sc.Scan() {
		c.line++
		text := c.sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		open, close := strings.IndexByte(text, '['), strings.IndexByte(text, ']')
		if open < 0 || close < open {
			c.err = fmt.Errorf("%s:%d: no [timestamp] in a Common Log Format line", c.name, c.line)
			break
		}
		ts, err := time.Parse(clfTime, text[open+1:close])
		if err != nil {
			c.err = fmt.Errorf("%s:%d: timestamp %q: want 01/Aug/1995:00:00:01 -0400", c.name, c.line, text[open+1:close])
			break
		}
		if c.t0.IsZero() {
			c.t0 = ts
		}
		var row model.TraceRow
		row.At = sim.Time(ts.Sub(c.t0))
		if row.At < c.last {
			row.At = c.last // access logs are written at completion: small disorder is normal
		}
		c.last = row.At
		if q1 := strings.IndexByte(text[close:], '"'); q1 >= 0 {
			req := text[close+q1+1:]
			if q2 := strings.IndexByte(req, '"'); q2 >= 0 {
				req = req[:q2]
			}
			fields := strings.Fields(req)
			if len(fields) >= 2 {
				row.Endpoint, row.Key = fields[0], Key(fields[1])
			} else if len(fields) == 1 {
				row.Key = Key(fields[0])
			}
		}
		return row, true
	}
	if c.err == nil {
		c.err = c.sc.Err()
	}
	return model.TraceRow{}, false
}

func (c *clfReader) Err() error   { return c.err }
func (c *clfReader) Close() error { return c.f.Close() }
