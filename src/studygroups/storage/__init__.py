"""Everything SQL: engine, tables, repositories, the event log and migrations."""
