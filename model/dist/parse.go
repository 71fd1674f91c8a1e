package dist

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Names lists the duration distributions Parse accepts.
var Names = []string{"const", "exp", "uniform", "normal", "lognormal", "gamma", "erlang", "pareto", "empirical"}

// Opener reads a file named in a distribution (empirical). It may be nil when
// no file access is allowed.
type Opener func(name string) ([]byte, error)

// call is a parsed "name(a, b, key=value)" expression.
type call struct {
	name  string
	pos   []string
	named map[string]string
	order []string // named keys in order of appearance
}

func parseCall(s string) (call, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return call{}, errors.New("want name(arguments)")
	}
	c := call{name: strings.ToLower(strings.TrimSpace(s[:open])), named: map[string]string{}}
	inner := strings.TrimSpace(s[open+1 : len(s)-1])
	if inner == "" {
		return c, nil
	}
	for _, part := range strings.Split(inner, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return c, errors.New("empty argument")
		}
		if k, v, ok := strings.Cut(part, "="); ok {
			k = strings.ToLower(strings.TrimSpace(k))
			if _, dup := c.named[k]; dup {
				return c, fmt.Errorf("%s given twice", k)
			}
			c.named[k] = strings.TrimSpace(v)
			c.order = append(c.order, k)
			continue
		}
		if len(c.named) > 0 {
			return c, errors.New("positional argument after a named one")
		}
		c.pos = append(c.pos, part)
	}
	return c, nil
}

// bind maps positional arguments onto names and checks that only allowed
// names appear. forms lists the accepted sets of names; the first form that
// matches exactly is returned.
func (c call) bind(forms ...[]string) (map[string]string, error) {
	args := map[string]string{}
	for k, v := range c.named {
		args[k] = v
	}
	if len(c.pos) > 0 {
		first := forms[0]
		if len(c.pos) > len(first) {
			return nil, fmt.Errorf("%s takes at most %d arguments, got %d", c.name, len(first), len(c.pos))
		}
		for i, v := range c.pos {
			if _, dup := args[first[i]]; dup {
				return nil, fmt.Errorf("%s given twice", first[i])
			}
			args[first[i]] = v
		}
	}
	for _, f := range forms {
		if len(f) != len(args) {
			continue
		}
		ok := true
		for _, k := range f {
			if _, has := args[k]; !has {
				ok = false
				break
			}
		}
		if ok {
			return args, nil
		}
	}
	var want []string
	for _, f := range forms {
		want = append(want, c.name+"("+strings.Join(f, "=…, ")+"=…)")
	}
	return nil, fmt.Errorf("want %s", strings.Join(want, " or "))
}

// ParseDuration parses a Go duration ("250ms", "1h30m") or "0" into
// nanoseconds; negative durations are refused.
func ParseDuration(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("%q has no unit: write it as a duration such as %sms or %ss", s, s, s)
		}
		return 0, fmt.Errorf("%q is not a duration (examples: 250ms, 1.5s, 2m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return float64(d), nil
}

func durArg(args map[string]string, k string, positive bool) (float64, error) {
	v, err := ParseDuration(args[k])
	if err != nil {
		return 0, fmt.Errorf("%s: %w", k, err)
	}
	if positive && v <= 0 {
		return 0, fmt.Errorf("%s must be greater than 0", k)
	}
	return v, nil
}

func numArg(args map[string]string, k string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(args[k]), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: %q is not a number", k, args[k])
	}
	if v <= 0 {
		return 0, fmt.Errorf("%s must be greater than 0, got %s", k, args[k])
	}
	return v, nil
}

// Parse parses a duration distribution. A bare duration ("5ms") is const.
func Parse(s string, open Opener) (Dist, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "(") {
		v, err := ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%s; or use a distribution: %s", err, strings.Join(Names, ", "))
		}
		return Const{toTime(v)}, nil
	}
	c, err := parseCall(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	// shift= on any distribution adds a constant: a fixed part (a
	// timer's wake-up, a handler's overhead) before the variable one.
	var shift float64
	if v, ok := c.named["shift"]; ok {
		if shift, err = ParseDuration(v); err != nil {
			return nil, fmt.Errorf("%s: shift: %v", c.name, err)
		}
		delete(c.named, "shift")
		c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == "shift" })
	}
	d, err := build(c, open)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.name, err)
	}
	if shift > 0 {
		return Shifted{Shift: toTime(shift), D: d}, nil
	}
	return d, nil
}

// durs reads the named duration arguments, in order.
func durs(a map[string]string, positive bool, keys ...string) ([]float64, error) {
	out := make([]float64, len(keys))
	for i, k := range keys {
		v, err := durArg(a, k, positive)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func build(c call, open Opener) (Dist, error) {
	switch c.name {
	case "const":
		a, err := c.bind([]string{"value"})
		if err != nil {
			return nil, err
		}
		v, err := durArg(a, "value", false)
		return Const{toTime(v)}, err
	case "exp", "exponential":
		a, err := c.bind([]string{"mean"})
		if err != nil {
			return nil, err
		}
		m, err := durArg(a, "mean", true)
		if err != nil {
			return nil, err
		}
		return NewExp(m), nil
	case "uniform":
		a, err := c.bind([]string{"min", "max"})
		if err != nil {
			return nil, err
		}
		v, err := durs(a, false, "min", "max")
		if err != nil {
			return nil, err
		}
		if v[1] < v[0] {
			return nil, fmt.Errorf("max (%s) is below min (%s)", a["max"], a["min"])
		}
		var u Uniform
		u.d.Min, u.d.Max = v[0], v[1]
		return u, nil
	case "normal":
		a, err := c.bind([]string{"mean", "sd"})
		if err != nil {
			return nil, err
		}
		v, err := durs(a, true, "mean", "sd")
		if err != nil {
			return nil, err
		}
		var n Normal
		n.d.Mu, n.d.Sigma = v[0], v[1]
		return n, nil
	case "lognormal":
		a, err := c.bind([]string{"mean", "sd"}, []string{"median", "p99"})
		if err != nil {
			return nil, err
		}
		if _, ok := a["mean"]; ok {
			v, err := durs(a, true, "mean", "sd")
			if err != nil {
				return nil, err
			}
			return NewLogNormalMeanSD(v[0], v[1]), nil
		}
		v, err := durs(a, true, "median", "p99")
		if err != nil {
			return nil, err
		}
		if v[1] <= v[0] {
			return nil, fmt.Errorf("p99 (%s) must be above the median (%s)", a["p99"], a["median"])
		}
		return NewLogNormalMedianP99(v[0], v[1]), nil
	case "gamma":
		a, err := c.bind([]string{"mean", "cv"})
		if err != nil {
			return nil, err
		}
		m, err := durArg(a, "mean", true)
		if err != nil {
			return nil, err
		}
		cv, err := numArg(a, "cv")
		if err != nil {
			return nil, err
		}
		return NewGamma(m, cv), nil
	case "erlang":
		a, err := c.bind([]string{"k", "mean"})
		if err != nil {
			return nil, err
		}
		k, err := strconv.Atoi(strings.TrimSpace(a["k"]))
		if err != nil || k < 1 || k > 1000 {
			return nil, fmt.Errorf("k must be a whole number from 1 to 1000, got %q", a["k"])
		}
		m, err := durArg(a, "mean", true)
		if err != nil {
			return nil, err
		}
		return NewErlang(k, m), nil
	case "pareto":
		a, err := c.bind([]string{"xm", "alpha"}, []string{"mean", "alpha"})
		if err != nil {
			return nil, err
		}
		alpha, err := numArg(a, "alpha")
		if err != nil {
			return nil, err
		}
		var p Pareto
		p.d.Alpha = alpha
		if _, ok := a["xm"]; ok {
			if p.d.Xm, err = durArg(a, "xm", true); err != nil {
				return nil, err
			}
			return p, nil
		}
		if alpha <= 1 {
			return nil, fmt.Errorf("the mean form needs alpha > 1 (alpha ≤ 1 has no finite mean); use xm=")
		}
		m, err := durArg(a, "mean", true)
		if err != nil {
			return nil, err
		}
		p.d.Xm = m * (alpha - 1) / alpha
		return p, nil
	case "empirical":
		a, err := c.bind([]string{"file"})
		if err != nil {
			return nil, err
		}
		name := strings.Trim(a["file"], `"'`)
		if open == nil {
			return nil, fmt.Errorf("cannot read %q here: no file access", name)
		}
		data, err := open(name)
		if err != nil {
			return nil, err
		}
		vals, err := ParseSamples(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return NewEmpirical(name, vals), nil
	}
	return nil, fmt.Errorf("unknown distribution; allowed: %s", strings.Join(Names, ", "))
}

// ParseSamples reads observations for an empirical distribution: CSV, value in
// the first column, either a Go duration ("12ms") or a plain number of
// milliseconds. A first line that is not a value is taken as a header.
func ParseSamples(data []byte) ([]float64, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	var vals []float64
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		f := strings.TrimSpace(rec[0])
		if f == "" {
			continue
		}
		var v float64
		if x, err := strconv.ParseFloat(f, 64); err == nil {
			v = x * 1e6
		} else if d, err := ParseDuration(f); err == nil {
			v = d
		} else if len(vals) == 0 && line == 1 {
			continue // header
		} else {
			return nil, fmt.Errorf("line %d: %q is neither a number of milliseconds nor a duration", line, f)
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: %q: values must be finite and ≥ 0", line, f)
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		return nil, errors.New("no values")
	}
	return vals, nil
}
