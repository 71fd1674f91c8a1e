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
	"unicode"

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
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), maxLine)
			return &clfReader{name: s.File, f: f, sc: sc}, nil
		}
		return newCSVReader(s, f, &lineLimit{r: r})
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
	c.r.FieldsPerRecord = 0 // every row as many columns as the header
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
		return -1, fmt.Errorf("%s: no %s column %q (columns: %s)", s.File, what, name, excerpt(strings.Join(header, ", ")))
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
		return c.fail("time %q is not a number", excerpt(ts))
	}
	unit := c.spec.TimeUnit
	if unit <= 0 {
		unit = sim.Second
	}
	if at := math.Round(t * float64(unit)); at < 0 || at > float64(maxTraceTime) {
		return c.fail("time %s is out of range (0 to %.0f s after the trace's origin)", excerpt(ts), maxTraceTime.Seconds())
	} else {
		row.At = sim.Time(at)
	}
	if row.At < c.last {
		return c.fail("time %s goes back (rows must be in time order)", excerpt(ts))
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
			return c.fail("count %q is not a whole number ≥ 0", excerpt(cs))
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
			c.err = fmt.Errorf("%s:%d: timestamp %q: want 01/Aug/1995:00:00:01 -0400", c.name, c.line, excerpt(text[open+1:close]))
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

// maxLine bounds a trace's line: a longer one is an error, not memory.
const maxLine = 1 << 20

// maxTraceTime bounds a trace's timestamps (ten years): beyond, a time is
// out of range rather than an overflow.
const maxTraceTime = 10 * 365 * 24 * sim.Hour

// lineLimit fails a read once a line runs past maxLine bytes.
type lineLimit struct {
	r    io.Reader
	line int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.line = 0
		} else if l.line++; l.line > maxLine {
			return 0, fmt.Errorf("a line longer than %d KB: not a trace", maxLine>>10)
		}
	}
	return n, err
}

// excerpt is a short, printable piece of a file's text for a message: a
// message never quotes more of a file than this.
func excerpt(s string) string {
	const most = 60
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == most {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
