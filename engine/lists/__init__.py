"""Universal lists: declared once, filtered, sorted, paged, exported (issue #14)."""
