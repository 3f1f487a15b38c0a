#!/bin/sh
# Starts or stops a throwaway OpenLDAP server for tests, with its own cn=config and mdb
# data under DIR; it never touches /etc/ldap/slapd.d, so several instances can run at once.
# Usage: ldap-test-server.sh start PORT DIR   |   ldap-test-server.sh stop DIR
# Environment: LDAP_SUFFIX (default dc=tenantry,dc=test), LDAP_ROOTPW (default secret),
# SLAPD_MODULE_PATH (default /usr/lib/ldap). The root DN is cn=admin,$LDAP_SUFFIX.
set -eu
usage() { echo "usage: $0 start PORT DIR | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
if [ "$cmd" = stop ]; then
  DIR=$2
  [ -f "$DIR/slapd.pid" ] && kill "$(cat "$DIR/slapd.pid")" 2>/dev/null || true
  # slapd removes its pid file on a clean shutdown: wait for that before deleting its data.
  i=0; while [ -f "$DIR/slapd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  rm -rf "$DIR"
  exit 0
fi
[ "$cmd" = start ] && [ $# -eq 3 ] || usage
PORT=$2 DIR=$3
SUFFIX=${LDAP_SUFFIX:-dc=tenantry,dc=test}
ROOTDN="cn=admin,$SUFFIX"
ROOTPW=${LDAP_ROOTPW:-secret}
MODULEPATH=${SLAPD_MODULE_PATH:-/usr/lib/ldap}
TEMPLATE="$(cd "$(dirname "$0")/.." && pwd)/test/ldap/slapd-config.ldif"
PATH="$PATH:/usr/sbin:/usr/local/sbin"

rm -rf "$DIR"; mkdir -p "$DIR/slapd.d" "$DIR/data"
sed -e "s|@DIR@|$DIR|g" -e "s|@SUFFIX@|$SUFFIX|g" -e "s|@ROOTDN@|$ROOTDN|g" \
    -e "s|@ROOTPW@|$ROOTPW|g" -e "s|@MODULEPATH@|$MODULEPATH|g" "$TEMPLATE" > "$DIR/config.ldif"
cat > "$DIR/base.ldif" <<LDIF
dn: $SUFFIX
objectClass: top
objectClass: dcObject
objectClass: organization
o: tenantry test
dc: $(echo "$SUFFIX" | sed 's/^dc=\([^,]*\).*/\1/')
LDIF

slapadd -n 0 -F "$DIR/slapd.d" -l "$DIR/config.ldif"
slapadd -n 1 -F "$DIR/slapd.d" -l "$DIR/base.ldif"
# -d none keeps slapd in the foreground (so $! is the server) and still prints fatal errors.
slapd -F "$DIR/slapd.d" -h "ldap://127.0.0.1:$PORT/" -d none >"$DIR/slapd.log" 2>&1 &
PID=$!
# Ready = our process is alive AND wrote its pid file (after binding the listener and opening
# the database) AND the port answers. The port alone is not enough: another server may hold it.
i=0
until kill -0 "$PID" 2>/dev/null && [ -s "$DIR/slapd.pid" ] &&
      ldapsearch -x -H "ldap://127.0.0.1:$PORT" -b "" -s base -LLL namingContexts >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null || [ $i -gt 250 ]; then
    echo "slapd failed to start on port $PORT:" >&2; cat "$DIR/slapd.log" >&2
    kill "$PID" 2>/dev/null || true; exit 1
  fi
  i=$((i+1)); sleep 0.02
done
echo "slapd pid $PID on ldap://127.0.0.1:$PORT"
