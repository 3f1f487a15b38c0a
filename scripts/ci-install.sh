#!/bin/sh
# Installs the OpenLDAP server and client tools the LDAP driver tests need, curl for the README's
# examples (test/operations/readme.test.ts runs them), and Chromium for the web console's browser tests.
# The preseed skips the package's default system instance: the tests start their own
# private slapd (see test/ldap/slapd.ts), so no daemon on port 389 is wanted.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils curl
# Debian's Chromium for the console's browser tests (playwright-core drives it; nothing is downloaded by npm).
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
