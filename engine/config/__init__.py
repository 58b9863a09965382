"""The configuration pipeline: YAML with positions → schema objects → overlay → a frozen `CompiledTenant`.

`loader` reads YAML keeping every value's file:line:col; `sources` gathers a
tenant's and the library's files; `overlay` merges tenant over library;
`validation` turns pydantic errors into positioned messages; `compiler` and
`process_compiler` check every reference (`reference_checks`) and build the
compiled tenant, with `transitions` machines from `machines`; `registry` and
`builtins` hold the named conditions and effects YAML may use; `explain`
prints what was understood; `schema_docs` generates the YAML reference.
"""
