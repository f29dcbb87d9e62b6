-- Sources (IP addresses) from which a user completed a login with every
-- factor. A lockout (A3) does not hold against a source the user has
-- recently completed a login from, so that anyone who knows an
-- administrator's name cannot lock them out from elsewhere (A9).
CREATE TABLE login_sources (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    last_success INTEGER NOT NULL,
    PRIMARY KEY (user_id, source)
) STRICT, WITHOUT ROWID;
