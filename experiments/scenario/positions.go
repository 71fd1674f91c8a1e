package scenario

import (
	"strconv"
	"strings"
)

// positions maps key paths ("service.web.endpoint.browse.steps[1].cpu") to
// the line they are written on. The TOML decoder does not report where keys
// are, so this small scanner walks the (already syntactically valid) source
// once to find them.
type positions map[string]int

type posScanner struct {
	src  string
	i    int
	line int
	out  positions
	aot  map[string]int // array-of-tables element counts
}

func scanPositions(src string) positions {
	p := &posScanner{src: src, line: 1, out: positions{}, aot: map[string]int{}}
	defer func() { _ = recover() }() // best effort: a scanner bug must never break parsing
	p.document()
	return p.out
}

func (p *posScanner) eof() bool { return p.i >= len(p.src) }
func (p *posScanner) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.i]
}

func (p *posScanner) adv() {
	if p.src[p.i] == '\n' {
		p.line++
	}
	p.i++
}

// skip skips spaces, tabs, comments and (if nl) newlines.
func (p *posScanner) skip(nl bool) {
	for !p.eof() {
		switch c := p.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			p.adv()
		case c == '\n' && nl:
			p.adv()
		case c == '#':
			for !p.eof() && p.peek() != '\n' {
				p.adv()
			}
		default:
			return
		}
	}
}

// set records the line of path and of its not yet seen parents ([a.b.c]
// also defines a and a.b).
func (p *posScanner) set(path string, line int) {
	for {
		if _, ok := p.out[path]; !ok {
			p.out[path] = line
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 || strings.HasSuffix(path[:i], "]") {
			return
		}
		path = path[:i]
	}
}

func (p *posScanner) document() {
	table := ""
	for last := -1; ; {
		p.skip(true)
		if p.eof() {
			return
		}
		if p.i == last {
			p.adv() // not TOML this scanner understands: move on
		}
		last = p.i
		line := p.line
		if p.peek() == '[' {
			p.adv()
			aot := p.peek() == '['
			if aot {
				p.adv()
			}
			key := p.keyPath()
			p.skip(false)
			for !p.eof() && p.peek() == ']' {
				p.adv()
			}
			if aot {
				n := p.aot[key]
				p.aot[key] = n + 1
				p.set(key, line)
				key += "[" + strconv.Itoa(n) + "]"
			}
			table = key
			p.set(table, line)
			continue
		}
		key := p.keyPath()
		full := join(table, key)
		p.set(full, line)
		p.skip(false)
		if p.peek() == '=' {
			p.adv()
		}
		p.value(full)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// keyPath reads a possibly dotted, possibly quoted key.
func (p *posScanner) keyPath() string {
	var parts []string
	for {
		p.skip(false)
		var k string
		switch p.peek() {
		case '"', '\'':
			k = p.str()
		default:
			start := p.i
			for !p.eof() {
				c := p.peek()
				if c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
					p.adv()
					continue
				}
				break
			}
			k = p.src[start:p.i]
		}
		parts = append(parts, k)
		p.skip(false)
		if p.peek() != '.' {
			return strings.Join(parts, ".")
		}
		p.adv()
	}
}

// str reads a string of any kind and returns its raw contents (escapes are
// kept as written, which is enough for key names).
func (p *posScanner) str() string {
	q := p.peek()
	if strings.HasPrefix(p.src[p.i:], string([]byte{q, q, q})) {
		p.i += 3
		start := p.i
		for !p.eof() && !strings.HasPrefix(p.src[p.i:], string([]byte{q, q, q})) {
			if q == '"' && p.peek() == '\\' {
				p.adv()
			}
			p.adv()
		}
		s := p.src[start:p.i]
		p.i += 3
		for !p.eof() && p.peek() == q { // up to two extra quotes belong to the string
			p.adv()
		}
		return s
	}
	p.adv()
	start := p.i
	for !p.eof() && p.peek() != q && p.peek() != '\n' {
		if q == '"' && p.peek() == '\\' {
			p.adv()
		}
		p.adv()
	}
	s := p.src[start:p.i]
	if !p.eof() {
		p.adv()
	}
	return s
}

func (p *posScanner) value(path string) {
	p.skip(false)
	switch p.peek() {
	case '"', '\'':
		p.str()
	case '{':
		p.adv()
		for last := -1; ; {
			p.skip(true)
			if p.i == last && !p.eof() {
				p.adv()
			}
			last = p.i
			if p.eof() || p.peek() == '}' {
				if !p.eof() {
					p.adv()
				}
				return
			}
			if p.peek() == ',' {
				p.adv()
				continue
			}
			line := p.line
			k := join(path, p.keyPath())
			p.set(k, line)
			p.skip(false)
			if p.peek() == '=' {
				p.adv()
			}
			p.value(k)
		}
	case '[':
		p.adv()
		for n, last := 0, -1; ; {
			p.skip(true)
			if p.i == last && !p.eof() {
				p.adv()
			}
			last = p.i
			if p.eof() || p.peek() == ']' {
				if !p.eof() {
					p.adv()
				}
				return
			}
			if p.peek() == ',' {
				p.adv()
				continue
			}
			el := path + "[" + strconv.Itoa(n) + "]"
			p.set(el, p.line)
			p.value(el)
			n++
		}
	default:
		for !p.eof() {
			c := p.peek()
			if c == ',' || c == ']' || c == '}' || c == '\n' || c == '#' {
				return
			}
			p.adv()
		}
	}
}
