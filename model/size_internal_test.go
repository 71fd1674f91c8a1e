package model

import (
	"testing"
	"unsafe"
)

// The records every call touches stay small: a big fleet's instances and a
// busy run's calls and requests are read on every event, and what does not
// fit in cache costs a miss each time (docs/performance.md). Growing one
// is a decision to measure, not a side effect: the end-to-end latency
// split added 24 bytes to each (1 % on the M/M/1 and three-tier runs).
func TestHotRecordsStaySmall(t *testing.T) {
	for _, c := range []struct {
		name       string
		size, most uintptr
	}{
		{"instance", unsafe.Sizeof(instance{}), 256},
		{"call", unsafe.Sizeof(call{}), 184},
		{"request", unsafe.Sizeof(request{}), 96},
	} {
		if c.size > c.most {
			t.Errorf("%s is %d bytes, more than %d", c.name, c.size, c.most)
		}
		t.Logf("%s: %d bytes", c.name, c.size)
	}
}
