# shellcheck shell=bash
# Starts a throwaway PostgreSQL server for the store tests and exports
# PARLEY_TEST_POSTGRES_DSN. Meant to be SOURCED, by .ci/run or by a developer:
#
#     source .ci/postgres.sh      # starts the server, exports the DSN
#     go test ./sqldb/...
#     parley_pg_stop              # stops it and removes its directory
#
# Set PARLEY_PG_TRAP=1 before sourcing to have parley_pg_stop run on EXIT.
#
# The server is configured the way production must be (T5): TLS only
# (hostssl lines, no plain host lines, no trust), scram-sha-256 passwords, a
# certificate signed by a throwaway CA and the DSN says sslmode=verify-full
# with that CA, so the tests exercise real certificate verification. It
# listens on 127.0.0.1 only, with its unix socket inside its own directory.
# Works as root on a clean Debian machine with the postgresql packages and
# openssl installed (initdb refuses to run as root, so it runs as postgres).

parley_pg_start() {
	local bindir port pw dir
	bindir=""
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		bindir=$(pg_config --bindir)
	fi
	if [ -z "$bindir" ]; then
		# Debian keeps the server binaries out of PATH; take the newest.
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	fi
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		echo "postgres.sh: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
		return 1
	fi

	dir=$(mktemp -d /tmp/parley-pg.XXXXXX) || return 1
	chmod 0700 "$dir"

	# Throwaway CA and a server certificate for localhost and 127.0.0.1
	# (verify-full checks the SAN against the host in the DSN).
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
		-subj "/CN=parley test CA" >/dev/null 2>&1 || { echo "postgres.sh: CA generation failed" >&2; return 1; }
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/server.key" -out "$dir/server.csr" \
		-subj "/CN=localhost" >/dev/null 2>&1 || { echo "postgres.sh: server key generation failed" >&2; return 1; }
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -out "$dir/server.pem" -days 2 -extfile "$dir/server.ext" \
		>/dev/null 2>&1 || { echo "postgres.sh: server certificate signing failed" >&2; return 1; }
	rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl" "$dir/ca.key"
	chmod 0600 "$dir/server.key"
	chmod 0644 "$dir/ca.pem" "$dir/server.pem"

	pw=$(openssl rand -hex 24)
	printf '%s\n' "$pw" >"$dir/pwfile"
	chmod 0600 "$dir/pwfile"

	# First free port from 55432 upward.
	port=55432
	while [ "$port" -lt 55532 ]; do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break
		fi
		port=$((port + 1))
	done

	local -a as_pg
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$dir"
		if command -v runuser >/dev/null 2>&1; then
			as_pg=(runuser -u postgres --)
		else
			as_pg=(su postgres -s /bin/sh -c '"$0" "$@"')
		fi
	else
		as_pg=()
	fi

	"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U parley --pwfile="$dir/pwfile" \
		--auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U parley --pwfile="$dir/pwfile" \
			--auth=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ echo "postgres.sh: initdb failed, see $dir/initdb.log" >&2; return 1; }
	rm -f "$dir/pwfile"

	# TLS only, over loopback only: no plain "host" lines, no "trust".
	"${as_pg[@]}" sh -c "cat >'$dir/data/pg_hba.conf'" <<-EOF
		# TYPE   DATABASE USER ADDRESS       METHOD
		local    all      all                scram-sha-256
		hostssl  all      all  127.0.0.1/32  scram-sha-256
	EOF
	"${as_pg[@]}" sh -c "cat >>'$dir/data/postgresql.conf'" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$dir'
		ssl = on
		ssl_cert_file = '$dir/server.pem'
		ssl_key_file = '$dir/server.key'
		ssl_min_protocol_version = 'TLSv1.2'
		password_encryption = 'scram-sha-256'
		max_connections = 200
		fsync = on
	EOF

	"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ echo "postgres.sh: server did not start, see $dir/server.log" >&2; return 1; }

	export PARLEY_PG_DIR="$dir"
	export PARLEY_PG_BINDIR="$bindir"
	export PARLEY_TEST_POSTGRES_DSN="postgres://parley:$pw@127.0.0.1:$port/postgres?sslmode=verify-full&sslrootcert=$dir/ca.pem"
	echo "postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (TLS, verify-full), dir $dir"
}

# parley_pg_stop stops the server started by parley_pg_start and removes its
# directory (key, data and logs).
parley_pg_stop() {
	local dir=${PARLEY_PG_DIR:-}
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$PARLEY_PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	else
		"$PARLEY_PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	fi
	rm -rf "$dir"
	unset PARLEY_PG_DIR PARLEY_TEST_POSTGRES_DSN
}

if parley_pg_start; then
	if [ "${PARLEY_PG_TRAP:-0}" = 1 ]; then
		trap parley_pg_stop EXIT
	fi
else
	echo "postgres.sh: PostgreSQL not started; PostgreSQL store tests will be skipped" >&2
	false
fi
