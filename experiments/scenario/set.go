package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Set applies one override, "PATH=VALUE", to a decoded TOML tree. PATH is
// dotted ("service.web.instances"), with [i] for array elements
// ("service.web.endpoint.buy.steps[0].cpu"); missing tables are created.
// VALUE is read as a TOML value (12, 0.5, true, "text", [1, 2],
// { a = 1 }) and, failing that, as a bare string (30s, exp(5ms)).
func Set(tree map[string]any, override string) error {
	path, raw, ok := strings.Cut(override, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		return fmt.Errorf("want PATH=VALUE, e.g. service.web.instances=12")
	}
	value := parseValue(strings.TrimSpace(raw))
	parts := strings.Split(path, ".")
	var cur any = tree
	for i, part := range parts {
		name, idx, err := splitIndex(part)
		if err != nil {
			return err
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not a table", strings.Join(parts[:i], "."))
		}
		last := i == len(parts)-1
		if idx < 0 {
			if last {
				m[name] = value
				return nil
			}
			next, ok := m[name]
			if !ok {
				next = map[string]any{}
				m[name] = next
			}
			cur = next
			continue
		}
		// name[idx]
		var elemRef *any
		switch arr := m[name].(type) {
		case []any:
			if idx >= len(arr) {
				return fmt.Errorf("%s has %d elements; index %d is out of range", name, len(arr), idx)
			}
			elemRef = &arr[idx]
		case []map[string]any:
			if idx >= len(arr) {
				return fmt.Errorf("%s has %d elements; index %d is out of range", name, len(arr), idx)
			}
			if last {
				vm, ok := value.(map[string]any)
				if !ok {
					return fmt.Errorf("%s[%d] is a table: set one of its keys, or give { … }", name, idx)
				}
				arr[idx] = vm
				return nil
			}
			cur = arr[idx]
			continue
		default:
			return fmt.Errorf("%s is not an array", strings.Join(append(parts[:i:i], name), "."))
		}
		if last {
			*elemRef = value
			return nil
		}
		cur = *elemRef
	}
	return nil
}

func splitIndex(part string) (string, int, error) {
	open := strings.IndexByte(part, '[')
	if open < 0 {
		if part == "" {
			return "", 0, fmt.Errorf("empty key in path")
		}
		return part, -1, nil
	}
	if !strings.HasSuffix(part, "]") {
		return "", 0, fmt.Errorf("%q: want name[index]", part)
	}
	i, err := strconv.Atoi(part[open+1 : len(part)-1])
	if err != nil || i < 0 {
		return "", 0, fmt.Errorf("%q: index must be a whole number ≥ 0", part)
	}
	return part[:open], i, nil
}

func parseValue(raw string) any {
	var v struct{ V any }
	if _, err := toml.Decode("V = "+raw, &v); err == nil && v.V != nil {
		return v.V
	}
	return strings.Trim(raw, `"'`)
}
