package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one error or warning in a scenario.
type Problem struct {
	File string
	Line int // 0 when unknown (for example a value set with --set)
	Key  string
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Key != "" {
		b.WriteString(": " + p.Key)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// Error is every problem that makes a scenario unusable.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var s []string
	for _, p := range e.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			// Problems with a line first, in file order; then the rest.
			if ps[i].Line == 0 || ps[j].Line == 0 {
				return ps[j].Line == 0 && ps[i].Line != 0
			}
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Key < ps[j].Key
	})
}

// suggest returns the candidate closest to s, if it is close enough to be a
// plausible typo.
func suggest(s string, candidates []string) string {
	if s == "" {
		return ""
	}
	// A candidate the text abbreviates ("least_conn") is the likeliest.
	prefixed := ""
	for _, c := range candidates {
		if strings.HasPrefix(c, s) && (prefixed == "" || len(c) < len(prefixed)) {
			prefixed = c
		}
	}
	if prefixed != "" {
		return prefixed
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(s) / 3
	if limit < 2 {
		limit = 2
	}
	if bestD <= limit || (best != "" && (strings.HasPrefix(best, s) || strings.HasPrefix(s, best))) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
