//go:build tools

// Package tools keeps the provider's packages (and generate.go's codegen/schema) in go.mod/go.sum: build.sh builds
// cmd/pulumi-resource-kubernetes from a copy (its embedded schema files are generated, not in the module zip).
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
