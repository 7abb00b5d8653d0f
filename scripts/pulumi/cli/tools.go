//go:build tools

// Package tools pins the Pulumi CLI command package so `go mod tidy` keeps the
// requirements; the binary itself is built with
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from this module.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi/cmd"
)
