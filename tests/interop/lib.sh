# Shell helpers shared by the tests/interop scripts (sourced, not run).

# wait_for SECONDS COMMAND...: runs COMMAND every 100 ms until it succeeds
# (status 0) or SECONDS pass (status 1).  For the readiness of a process the
# caller started, or a state it polls; never a fixed sleep.
wait_for() {
	local limit=$1
	shift
	local end=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}
