package trace

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

func read(t *testing.T, files fstest.MapFS, s Spec) ([]model.TraceRow, error) {
	t.Helper()
	r, err := Opener(files, s)()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []model.TraceRow
	for {
		row, ok := r.Next()
		if !ok {
			return rows, r.Err()
		}
		rows = append(rows, row)
	}
}

func TestKey(t *testing.T) {
	if Key("0") != 1 || Key("41") != 42 {
		t.Error("numeric keys are not n+1")
	}
	if Key("/a") == Key("/b") || Key("/a") != Key("/a") || Key("/a") < 1<<63 {
		t.Error("hashed keys collide, vary, or clash with numeric ones")
	}
}

func TestCSV(t *testing.T) {
	files := fstest.MapFS{"t.csv": {Data: []byte("ms,user,op\n0,7,GET\n1500,8,POST\n1500,\"9\",GET\n")}}
	rows, err := read(t, files, Spec{File: "t.csv", Format: CSV, TimeColumn: "ms", TimeUnit: sim.Millisecond, KeyColumn: "user", EndpointColumn: "op"})
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v %v", rows, err)
	}
	if rows[1].At != 1500*sim.Millisecond || rows[1].Key != 9 || rows[1].Endpoint != "POST" {
		t.Errorf("row 1: %+v", rows[1])
	}
	for _, c := range []struct{ data, want string }{
		{"t,k\n5,a\n3,b\n", "t.csv:3: time 3 goes back"},
		{"t,k\nx,a\n", `t.csv:2: time "x" is not a number`},
	} {
		_, err := read(t, fstest.MapFS{"t.csv": {Data: []byte(c.data)}}, Spec{File: "t.csv", Format: CSV, TimeColumn: "t"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.data, err, c.want)
		}
	}
	if _, err := read(t, files, Spec{File: "t.csv", Format: CSV, KeyColumn: "nope"}); err == nil || !strings.Contains(err.Error(), `no key column "nope"`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestCounts(t *testing.T) {
	files := fstest.MapFS{"c.csv": {Data: []byte("timestamp_s,requests\n0,5\n60,-1\n")}}
	rows, err := read(t, files, Spec{File: "c.csv", Format: Counts})
	if len(rows) != 1 || rows[0].Count != 5 || err == nil || !strings.Contains(err.Error(), "c.csv:3") {
		t.Errorf("%v %v", rows, err)
	}
}

func TestCLF(t *testing.T) {
	log := `in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /shuttle/missions/sts-68/news/sts-68-mcc-05.txt HTTP/1.0" 200 1839
uplherc.upl.com - - [01/Aug/1995:00:00:07 -0400] "GET / HTTP/1.0" 304 0

ix-esc-ca2-07.ix.netcom.com - - [01/Aug/1995:00:00:09 -0400] "POST /images/launch-logo.gif HTTP/1.0" 200 1713
`
	rows, err := read(t, fstest.MapFS{"a.log": {Data: []byte(log)}}, Spec{File: "a.log", Format: CLF})
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v %v", rows, err)
	}
	if rows[1].At != 6*sim.Second || rows[2].Endpoint != "POST" || rows[1].Key != Key("/") {
		t.Errorf("%+v", rows)
	}
	_, err = read(t, fstest.MapFS{"b.log": {Data: []byte("host - - [yesterday] \"GET / HTTP/1.0\" 200 1\n")}}, Spec{File: "b.log", Format: CLF})
	if err == nil || !strings.Contains(err.Error(), "b.log:1: timestamp") {
		t.Errorf("bad timestamp: %v", err)
	}
}

// The readers never panic, whatever the bytes.
func FuzzReaders(f *testing.F) {
	f.Add([]byte("timestamp_s,requests,url\n0,1,/a\n1,2,/b\n"))
	f.Add([]byte(`h - - [01/Aug/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n"))
	f.Add([]byte{0x1f, 0x8b, 0, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		files := fstest.MapFS{"f": {Data: data}}
		for _, s := range []Spec{{File: "f", Format: CSV, KeyColumn: "url"}, {File: "f", Format: Counts}, {File: "f", Format: CLF}} {
			r, err := Opener(files, s)()
			if err != nil {
				continue
			}
			for n := 0; n < 1000; n++ {
				if _, ok := r.Next(); !ok {
					break
				}
			}
			r.Close()
		}
	})
}
