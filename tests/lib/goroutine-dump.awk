# A Go program's own goroutine dump (/debug/pprof/goroutine?debug=2) as one
# tab-separated line per goroutine:
#
#	CREATED_AT  STATE  MINUTES  NAME  FRAMES
#
# CREATED_AT is the go statement's file:line ("-" for goroutines with none),
# STATE the wait reason or status as printed ("chan receive", "runnable"),
# MINUTES the "N minutes" the dump prints for long waits (-1 when it prints none),
# NAME the function of the outermost frame (what the goroutine runs), and FRAMES
# the functions innermost first, space-separated, without the scheduler's own
# leading runtime.gopark/runtime.goparkunlock (leakscope starts at the call that
# parked the goroutine).
function flush() {
	if (state == "")
		return
	printf "%s\t%s\t%d\t%s\t%s\n", created == "" ? "-" : created, state, minutes,
		nf ? fn[nf] : "-", frames
	state = ""
}

/^goroutine [0-9]+ \[/ {
	flush()
	s = $0
	sub(/^goroutine [0-9]+ \[/, "", s)
	sub(/\]:$/, "", s)
	minutes = -1
	if (match(s, /, [0-9]+ minutes/)) {
		m = substr(s, RSTART + 2, RLENGTH - 2)
		sub(/ minutes/, "", m)
		minutes = m + 0
	}
	gsub(/, [0-9]+ minutes/, "", s)
	gsub(/, locked to thread/, "", s)
	gsub(/, syncbubble [0-9]+/, "", s)
	state = s
	created = ""
	frames = ""
	nf = 0
	after_created = 0
	next
}

state == "" { next }

/^created by / { after_created = 1; next }

/^\t/ {
	if (after_created == 1) {
		f = $1
		sub(/^\t/, "", f)
		created = f
		after_created = 2
	}
	next
}

/^$/ { flush(); next }

after_created == 0 {
	f = $0
	sub(/\([^()]*\)$/, "", f)
	if (nf == 0 && (f == "runtime.gopark" || f == "runtime.goparkunlock"))
		next
	fn[++nf] = f
	frames = frames == "" ? f : frames " " f
}

END { flush() }
