// Package fit checks a prediction against a measurement: it runs a
// scenario at the load a test measured (the measured arrival times when
// the measurement has them, so that model error is not confused with
// traffic error) and compares throughput, mean, p50, p90, p95, p99 and
// error rate, each with its relative error and whether it is within a
// tolerance. capsim fit is its command; docs/validation.md the loop it
// closes (calibrate, predict, load-test, fit).
package fit
