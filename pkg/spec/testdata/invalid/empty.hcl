# WARNING: Empty spec file

# Only comments and blank lines.
