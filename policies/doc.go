// Package policies implements the decision policies capsim's model consumes:
// load-balancing pickers (and, later, autoscalers and cache evictors). Each
// policy is a small type with one method that sees a read-only view of the
// system plus a random stream, so its tests are tables. Policies are wired by
// name through the explicit registry in this package; nothing registers
// itself in init.
package policies
