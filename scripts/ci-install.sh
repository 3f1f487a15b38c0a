#!/bin/sh
# Installs the OpenLDAP server and client tools the LDAP driver tests need.
# The preseed skips the package's default system instance: the tests start their own
# private slapd (see test/ldap/slapd.ts), so no daemon on port 389 is wanted.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils
