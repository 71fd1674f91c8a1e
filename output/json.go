package output

import (
	"bytes"
	"encoding/json"

	"github.com/capsim/capsim/experiments"
)

// JSON renders summary.json: indented, keys of maps sorted, newline-terminated.
func JSON(s *experiments.Summary) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
