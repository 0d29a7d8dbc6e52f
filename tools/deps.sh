#!/bin/sh
# Install the Debian packages given as arguments if any is missing.
# Quiet when everything is already there, so `make test` stays readable.
set -eu
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing; run as root or: apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing >/tmp/leakscope-deps.log 2>&1; then
	apt-get update >>/tmp/leakscope-deps.log 2>&1 || true
	apt-get install -y --no-install-recommends $missing >>/tmp/leakscope-deps.log 2>&1 || {
		tail -20 /tmp/leakscope-deps.log >&2
		echo "deps: apt-get install failed (log: /tmp/leakscope-deps.log)" >&2
		exit 1
	}
fi
