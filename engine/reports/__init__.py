"""Reports defined as data (`reports:` in YAML) and the staff dashboard: computed by SQL aggregates (issue #14)."""
