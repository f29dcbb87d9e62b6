-- Job titles (M5), SQLite dialect. The PostgreSQL file of the same name
-- adds the same column.

-- title: what the directory shows under a user's name ("Payroll
-- Specialist"); '' for none. Set only by a system admin (users.manage):
-- users cannot give themselves titles, which others would read as an
-- organisational claim (Z6). The service checks it like a display name:
-- at most 128 printable characters (I3).
ALTER TABLE users ADD COLUMN title TEXT NOT NULL DEFAULT '';
