package spans

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind is a span's role in an RPC, as OTLP's SpanKind.
type Kind int8

const (
	Unspecified Kind = iota
	Internal
	Server
	Client
	Producer
	Consumer
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// kindOf reads a kind by name, in any of the formats' spellings
// ("SPAN_KIND_SERVER", "SERVER", "server").
func kindOf(s string) Kind {
	s = strings.ToLower(strings.TrimPrefix(strings.ToUpper(s), "SPAN_KIND_"))
	for i, n := range kindNames {
		if s == n {
			return Kind(i)
		}
	}
	return Unspecified
}

// Span is one span, whatever format it came in: ids as lowercase hex, times
// in nanoseconds since the Unix epoch.
type Span struct {
	TraceID, SpanID, ParentID string // ParentID "" for a root
	Service, Name             string
	Kind                      Kind
	Start, End                int64
	Error                     bool // status ERROR (OTLP), error tag (Jaeger, Zipkin)
	// FollowsFrom: the parent does not wait for this span (a Jaeger
	// FOLLOWS_FROM reference).
	FollowsFrom bool
	// Shared: a Zipkin SERVER span that shares its id with the CLIENT span
	// that called it; that client span is its parent.
	Shared bool
}

// Format is a trace file format.
type Format string

const (
	OTLP   Format = "otlp"
	Jaeger Format = "jaeger"
	Zipkin Format = "zipkin"
)

// Limits bound what one file may ask of memory.
const (
	// MaxValue is the most bytes one decoded JSON value may take: an OTLP
	// span, a Jaeger trace (all its spans), a Zipkin span.
	MaxValue = 64 << 20
)

// Read reads the spans of a trace file (format detected from its content,
// gzip undone) and hands each to fn, in file order; it stops at fn's first
// error. name is used in error messages.
func Read(name string, r io.Reader, fn func(*Span) error) (Format, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	format, err := detect(br)
	if err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	cr := &countingReader{r: br}
	dec := json.NewDecoder(cr)
	dec.UseNumber()
	w := &walker{dec: dec, cr: cr}
	switch format {
	case OTLP:
		err = readOTLP(w, fn)
	case Jaeger:
		err = readJaeger(w, fn)
	default:
		err = readZipkin(w, fn)
	}
	if err != nil {
		var stop stopError
		if errors.As(err, &stop) {
			return format, stop.err
		}
		return format, fmt.Errorf("%s: %s: byte %d: %w", name, format, cr.n, err)
	}
	return format, nil
}

// stopError carries fn's error through the readers unchanged.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// detect tells the format from the first bytes: a JSON array is Zipkin's;
// an object is Jaeger's when its first key is "data", else OTLP's.
func detect(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(4096)
	if len(head) == 0 {
		if err == nil || err == io.EOF {
			return "", errors.New("empty: no spans")
		}
		return "", err
	}
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	switch {
	case len(head) == 0:
		return "", errors.New("blank: no spans")
	case head[0] == '[':
		return Zipkin, nil
	case head[0] != '{':
		return "", fmt.Errorf("not a trace file: it starts with %q; want OTLP/JSON, Jaeger or Zipkin JSON", clip(head, 20))
	}
	rest := bytes.TrimLeft(head[1:], " \t\r\n")
	if bytes.HasPrefix(rest, []byte(`"data"`)) {
		return Jaeger, nil
	}
	return OTLP, nil
}

func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// countingReader counts the bytes read, for positions in errors, and
// refuses a value larger than MaxValue past the point the decoder asked
// for (the decoder buffers one value whole).
type countingReader struct {
	r    io.Reader
	n    int64
	mark int64 // where the value being read began (about: the decoder reads ahead)
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n-c.mark > MaxValue {
		return 0, fmt.Errorf("a single value is larger than %d MB: not a span or trace a reader should hold", MaxValue>>20)
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// walker walks a JSON stream token by token, so that only the values it
// decodes whole are in memory.
type walker struct {
	dec *json.Decoder
	cr  *countingReader
}

func (w *walker) delim(want json.Delim) error {
	t, err := w.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", string(want), t)
	}
	return nil
}

// object walks an object, calling fn for each key; fn consumes the value.
// A null stands for an empty object.
func (w *walker) object(fn func(key string) error) error {
	t, err := w.dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, got %v", t)
	}
	for w.dec.More() {
		t, err := w.dec.Token()
		if err != nil {
			return err
		}
		if err := fn(t.(string)); err != nil {
			return err
		}
	}
	return w.delim('}')
}

// array walks an array, calling fn for each element; fn consumes it. A
// null stands for an empty array.
func (w *walker) array(fn func() error) error {
	t, err := w.dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, got %v", t)
	}
	for w.dec.More() {
		w.cr.mark = w.cr.n
		if err := fn(); err != nil {
			return err
		}
	}
	return w.delim(']')
}

// skip consumes one value of any shape, token by token.
func (w *walker) skip() error {
	depth := 0
	for {
		t, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// decode decodes one value whole into v.
func (w *walker) decode(v any) error {
	return w.dec.Decode(v)
}

// ID normalises a trace or span id to lowercase hex: hex as it is (OTLP/JSON,
// Jaeger, Zipkin), base64 (protojson's bytes) converted. Zipkin's and
// Jaeger's 64-bit trace ids are left-padded to 32 digits so that a
// 64-bit and a 128-bit spelling of the same id agree.
func ID(s string, traceID bool) (string, error) {
	if s == "" {
		return "", nil
	}
	if isHex(s) && (len(s) <= 16 || len(s) == 32) {
		s = strings.ToLower(s)
		if traceID && len(s) < 32 {
			s = strings.Repeat("0", 32-len(s)) + s
		} else if !traceID && len(s) < 16 {
			s = strings.Repeat("0", 16-len(s)) + s
		}
		return s, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if want := map[bool]int{true: 16, false: 8}[traceID]; err != nil || len(b) != want {
		return "", fmt.Errorf("id %q is neither hex nor the base64 of %d bytes", clip([]byte(s), 40), want)
	}
	out := hex.EncodeToString(b)
	if traceID && len(out) < 32 {
		out = strings.Repeat("0", 32-len(out)) + out
	}
	return out, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// flexInt is a 64-bit integer written as a number or a string (protojson
// writes int64 and fixed64 as strings).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(v)
		return nil
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil { // a fixed64 beyond int64's nanoseconds
		return fmt.Errorf("time %s beyond 2262", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || v > 9.2e18 || v < -9.2e18 {
		return fmt.Errorf("want an integer, got %s", clip(b, 30))
	}
	*f = flexInt(v)
	return nil
}

// flexEnum is an enum written as its number or its name.
type flexEnum struct {
	num  int64
	name string
}

func (f *flexEnum) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.name)
	}
	if string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return fmt.Errorf("want an enum number or name, got %s", clip(b, 30))
	}
	f.num = v
	return nil
}
