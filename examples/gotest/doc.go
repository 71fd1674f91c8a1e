// Package gotest shows how a team keeps a capsim scenario next to its code
// and checks it in go test: the checkout service must meet its SLO at the
// expected peak with the planned fleet, must not when one instance is
// missing (so the test would notice a model that is too optimistic), and
// its autoscaler must not thrash.
package gotest
