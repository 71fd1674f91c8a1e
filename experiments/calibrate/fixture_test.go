package calibrate

import (
	"bytes"
	"compress/gzip"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the trace fixtures in testdata/")

// TestFixtures keeps testdata's trace files (the worked example of
// docs/calibration.md and the CLI's tests) equal to what the generator
// writes: 300 traces of the system TestLearnRecoversTheSystem learns, as
// OTLP lines, Jaeger and Zipkin, gzip-compressed.
func TestFixtures(t *testing.T) {
	g := newTruth(300, 20, 5)
	for name, data := range map[string][]byte{
		"shop.otlp.jsonl.gz": g.otlp(256, false), "shop.jaeger.json.gz": g.jaeger(), "shop.zipkin.json.gz": g.zipkin(),
	} {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		path := filepath.Join("testdata", name)
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run Fixtures -update writes it)", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		var plain bytes.Buffer
		plain.ReadFrom(zr)
		if !bytes.Equal(plain.Bytes(), data) {
			t.Errorf("%s differs from what the generator writes", path)
		}
	}
}

// longTests runs the long variants (a 1 GB trace stream): CAPSIM_LONG=1.
var longTests = os.Getenv("CAPSIM_LONG") == "1"
