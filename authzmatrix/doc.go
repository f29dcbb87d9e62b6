// Package authzmatrix holds the generated authorization matrix (Z1–Z6,
// Z10, I6). It has no code outside its tests.
//
// A whole server runs in-process (parleytest.NewServer) on SQLite, and on
// PostgreSQL when PARLEY_TEST_POSTGRES_DSN is set. The test reads the
// operations from the server's own OpenAPI document, each with the
// permission it names (x-permission), and the client WebSocket frame types
// from package wire, so a new route or frame is in the matrix the moment it
// is served. One principal per built-in role, plus one holding a custom
// role scoped to a department, all with MFA and a fresh step-up, then
// tries every operation through the public SDK (client/):
//
//   - gate: with made-up IDs and a minimal body, a principal without the
//     permission gets 403 forbidden and an api.denied audit record; one
//     with it gets past the gate (400, 404 or 409 are fine); nobody
//     without a session gets further than 401.
//   - scope relations: per object type, the object-level answer (member
//     or not of a conversation, own or another user's session, own
//     department or sub-department or another one, a user inside or
//     outside a scoped grant). Another user's or department's object is
//     not_found, never forbidden (DESIGN.md conventions).
//   - policy: the built-in role table is pinned here, and the observed
//     matrix must respect the separation of the roles (Z3, Z4, Z5, Z10):
//     a route whose permission a role should not hold fails the test.
//
// Subtests are named "<role>/<relation>/<METHOD path>", so that one cell
// can be rerun with -run.
package authzmatrix
