// Package output renders run results for people and tools: the terminal
// summary, summary.json and timeseries.csv. It only renders; writing files
// (atomically) is the caller's job.
package output
