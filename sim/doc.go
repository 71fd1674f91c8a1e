// Package sim is capsim's discrete-event engine: integer simulated time, a
// typed event queue, named random streams and streaming statistics.
//
// It knows nothing of services, HTTP, files or plots. Its duties to callers:
//
//  1. Time is an integer number of nanoseconds (Time); the engine never reads
//     a wall clock.
//  2. Events scheduled for the same instant run in the order they were
//     scheduled (a sequence number breaks ties), so a run is a pure function
//     of its inputs.
//  3. Scheduling an event does not allocate once the queue has grown to the
//     run's peak size: events are value structs in a 4-ary heap.
//  4. Every random draw comes from a Stream derived from (seed, component,
//     purpose), so adding a component never shifts another component's draws.
//  5. Statistics are streaming: memory does not grow with the number of
//     observations.
package sim
