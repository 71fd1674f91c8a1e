// Package spans reads distributed traces — OpenTelemetry OTLP/JSON, Jaeger
// UI JSON and Zipkin v2 JSON, plain or gzip-compressed, told apart by their
// content — as one stream of Spans, in constant memory: a reader holds one
// span (Jaeger: one trace) at a time, never the file.
//
// The formats follow their specifications:
//   - OTLP/JSON: opentelemetry-proto's opentelemetry/proto/trace/v1/trace.proto
//     and collector/trace/v1/trace_service.proto, encoded by the OTLP/JSON
//     rules of the OTLP specification (docs/specification.md, "JSON Protobuf
//     Encoding"): lowerCamelCase field names (protojson also accepts the
//     proto names), trace and span ids as hex strings (base64, protojson's
//     default for bytes, is accepted too), enums as integers (their names
//     accepted too), 64-bit integers as strings or numbers. The Collector's
//     file exporter writes one ExportTraceServiceRequest a line; Grafana
//     Tempo's older API answers {"batches": [...]} with
//     "instrumentationLibrarySpans" (OTLP before v0.15).
//   - Jaeger: the query service's (and UI's) JSON, jaeger's model/json
//     (model.go): {"data": [{"traceID", "spans", "processes"}]}, times in µs,
//     span.kind and error as tags, CHILD_OF and FOLLOWS_FROM references.
//   - Zipkin: zipkin2-api.yaml's ListOfSpans (or the API's list of traces),
//     times in µs; a SERVER span with "shared": true carries the id of the
//     CLIENT span that called it (B3's single-span RPC model), and spans are
//     keyed by id and kind so that the two stay apart.
package spans
