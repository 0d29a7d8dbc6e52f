# Building the Go test targets with every Go toolchain at hand (sourced).
#
# go_toolchains prints "VERSION GOCMD" lines: the machine's go, Debian's golang-1.19,
# and the releases named in $LEAKSCOPE_GO_EXTRA fetched through GOTOOLCHAIN (the
# module proxy), each only if it works here.
: "${LEAKSCOPE_GO_EXTRA=go1.22.12 go1.24.11}"

_gt_toolchains_cache=""

go_toolchains() {
	if [ -z "$_gt_toolchains_cache" ]; then
		local v
		if command -v go >/dev/null 2>&1; then
			v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null) &&
				_gt_toolchains_cache+="$v env GOTOOLCHAIN=local go"$'\n'
		fi
		if [ -x /usr/lib/go-1.19/bin/go ]; then
			_gt_toolchains_cache+="go1.19 /usr/lib/go-1.19/bin/go"$'\n'
		fi
		if command -v go >/dev/null 2>&1; then
			for v in $LEAKSCOPE_GO_EXTRA; do
				# Only if the proxy delivers it (first use downloads ~70 MB).
				if (cd /tmp && GOTOOLCHAIN=$v timeout 300 go version) >/dev/null 2>&1; then
					_gt_toolchains_cache+="$v env GOTOOLCHAIN=$v go"$'\n'
				fi
			done
		fi
	fi
	printf '%s' "$_gt_toolchains_cache"
}

# build_go TARGET FLAVOR VERSION GOCMD...: prints the binary's path.
# FLAVOR: default | stripped (-ldflags=-s -w) | pie (-buildmode=pie) | stripped-pie,
# optionally +TAGS for build tags, e.g. stripped+pprof.
build_go() {
	local target=$1 flavor=$2 version=$3
	shift 3
	local src=$LEAKSCOPE_ROOT/tests/targets/$target
	local out=$LEAKSCOPE_BUILD/targets/$version/$target-$flavor
	local args=() tags=
	case $flavor in *+*) tags=${flavor#*+} flavor=${flavor%%+*} ;; esac
	[ -n "$tags" ] && args+=(-tags "$tags")
	case $flavor in
	default) ;;
	stripped) args+=(-ldflags=-s\ -w) ;;
	pie) args+=(-buildmode=pie) ;;
	stripped-pie) args+=(-buildmode=pie -ldflags=-s\ -w) ;;
	*) echo "build_go: unknown flavor $flavor" >&2; return 1 ;;
	esac
	if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -type f)" ]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$(dirname "$out")"
	if ! (cd "$src" && "$@" build -o "$out" "${args[@]}" . ) >"$out.log" 2>&1; then
		echo "build_go: building $target ($flavor) with $version failed:" >&2
		cat "$out.log" >&2
		return 1
	fi
	echo "$out"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# status_get FILE KEY: a value from a test target's status file.
status_get() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# within PCT A B: |A - B| <= PCT% of B (B > 0).
within() {
	awk -v p="$1" -v a="$2" -v b="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= b * p / 100) }'
}
