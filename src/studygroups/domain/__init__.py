"""Pure rules of study groups: no I/O, no frameworks, no clock."""
