# Building the Go test targets with every Go toolchain at hand (sourced).
#
# go_toolchains prints "VERSION GOCMD" lines: the machine's go, Debian's golang-1.19,
# and the releases named in $LEAKSCOPE_GO_EXTRA fetched through GOTOOLCHAIN (the
# module proxy), each only if it works here.
: "${LEAKSCOPE_GO_EXTRA=go1.22.12 go1.24.11 go1.27.3}"

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

# go_wide VERSION: true for the releases every build flavor is tested with (the
# machine's Go, the oldest, Debian's 1.19, and the current release); the releases in
# between get the default build only, which keeps the suite in its time budget
# (stripped and PIE builds read the same tables in every release since 1.18).
: "${LEAKSCOPE_GO_CURRENT=go1.27.3}"
go_wide() {
	[ "$1" = go1.19 ] || [ "$1" = "$LEAKSCOPE_GO_CURRENT" ] ||
		[ "$1" = "$(go_toolchains | head -1 | cut -d' ' -f1)" ]
}

# build_go TARGET FLAVOR VERSION GOCMD...: prints the binary's path.
# FLAVOR: default | stripped (-ldflags=-s -w) | pie (-buildmode=pie) | stripped-pie |
# uncompressed (DWARF left uncompressed),
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
	uncompressed) args+=(-ldflags=-compressdwarf=false) ;; # DWARF a test can patch
	noinline) args+=(-gcflags=-l) ;;                       # no inlining anywhere
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

# The Go heap targets' helpers (tests/targets/goheap):

# pprof_inuse FILE FUNC: in-use bytes of the stacks holding FUNC in a debug=1 heap
# profile, scaled the way pprof scales.
pprof_inuse() {
	awk -v fn="$2" '
	/^heap profile:/ { split($0, a, "@ heap/"); rate = (a[2] + 0) / 2 }
	/^[0-9]+: [0-9]+ \[/ { flush(); objs = $1 + 0; bytes = $2 + 0; hit = 0; inrec = 1; next }
	/^#/ { if (inrec && index($0, fn)) hit = 1; next }
	{ flush(); inrec = 0 }
	function flush() {
		if (inrec && hit && objs > 0) {
			s = rate > 1 ? 1 / (1 - exp(-(bytes / objs) / rate)) : 1
			total += bytes * s
		}
		inrec = 0; hit = 0
	}
	END { flush(); printf "%.0f\n", total }' "$1"
}

# http_get HOST:PORT PATH: body of a plain HTTP/1.0 GET (bash's /dev/tcp: no curl needed).
http_get() {
	local addr=$1 path=$2
	exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$addr" >&3
	sed '1,/^\r$/d' <&3
	exec 3<&-
}

# start_target BIN DIR ARGS...: start it, wait until it reports ready; prints its pid.
start_target() {
	local bin=$1 dir=$2
	shift 2
	"$bin" -status "$dir/status" "$@" >"$dir/target.out" 2>&1 &
	local pid=$!
	wait_for 10 grep -q 'ready 1' "$dir/status" || { kill $pid; return 1; }
	echo $pid
}

# stack_sum FILE FILTER FIELD FUNC: sum of FIELD over stack records matching FILTER
# whose frames hold FUNC.
stack_sum() {
	jq -s "[.[] | select(.type==\"stack\" and $2) | select(.frames | map(.func) | index(\"$4\"))
		| .$3] | add // 0" "$1"
}
