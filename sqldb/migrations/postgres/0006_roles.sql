-- Role grants with scope and history (Z1, Z8) replace user_roles, and
-- custom roles (Z6) arrive. A grant's scope is the root of the department
-- subtree it covers, '' for the whole organisation; department_admin grants
-- made before scopes existed get the holder's own department.
CREATE TABLE role_grants (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    granted_by   TEXT NOT NULL, -- '' for setup (bootstrap)
    granted_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,   -- 0: not used since granted (access review)
    PRIMARY KEY (user_id, role, scope)
);
CREATE INDEX role_grants_role ON role_grants (role);

INSERT INTO role_grants (user_id, role, scope, granted_by, granted_at, last_used_at)
SELECT r.user_id, r.role,
       CASE WHEN r.role = 'department_admin' THEN COALESCE(u.department_id, '') ELSE '' END,
       '', u.created_at, 0
FROM user_roles r JOIN users u ON u.id = r.user_id;

DROP TABLE user_roles;

CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,   -- "custom:…"
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,      -- lower-cased: names unique case-insensitively
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,      -- space-separated permission names
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_roles_name_key ON custom_roles (name_key);
