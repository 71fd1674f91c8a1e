// Package measure reads what a load test measured — a k6 end-of-test
// summary (--summary-export), k6's JSON output (--out json, one metric
// sample a line), vegeta's results (vegeta encode --to json) or its
// report (vegeta report -type=json) — into one Measurement: requests,
// failures, the span they were sent over, latency statistics of the
// successful requests, and, where the format has timestamps, the arrival
// times and a per-second series. The format is detected by content, gzip
// included. Readers stream: memory is bounded by the test's length in
// seconds, never by its number of requests (a 10 GB NDJSON file is read
// in tens of megabytes).
//
// Percentiles are exact, as k6 computes them (linear interpolation
// between the closest ranks), up to MaxExact samples, and from an
// HdrHistogram-layout histogram (relative error ≤ 0.4 %) beyond.
//
// The package knows nothing of scenarios or runs: capsim fit
// (experiments/fit) compares a Measurement with a prediction.
package measure
