// Package scenario reads capsim scenario files (TOML) into model.Config.
//
// Parse is pure (bytes in, config out); Load reads a file. Every problem in a
// file is reported at once, each as "file:line: key: message" with what is
// allowed and, for unknown keys, a "did you mean". Overrides ("--set
// PATH=VALUE") are applied to the parsed tree before decoding, so they can
// set any key the format allows, including ones the file leaves out.
// Plausibility warnings (offered load above capacity) are separate from
// errors.
package scenario
