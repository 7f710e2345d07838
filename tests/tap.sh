# SPDX-License-Identifier: MIT
# TAP for the shell tests (sourced, not run): meson reads the "ok"/"not ok" lines and the plan.
#
#   . "$FBA_SOURCE_ROOT/tests/tap.sh"
#   ok $? "the agent exits 0"
#   is "$got" "$expected" "the member list"
#   like FILE REGEX "the record is logged"
#   skip "strace not installed" "the directory is not looked at"
#   tap_done                    # prints the plan; returns 1 if any test failed (last line)

tap_n=0
tap_failed=0

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
bail() { echo "Bail out! $*"; exit 1; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# skip REASON DESCRIPTION: one test this machine cannot run, a TAP skip naming what is missing
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $2 # SKIP $1"; }

tap_result() {  # tap_result PASSED(0|1) DESCRIPTION
        tap_n=$((tap_n + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $tap_n - $2"
        else
                echo "not ok $tap_n - $2"
                tap_failed=$((tap_failed + 1))
        fi
        return "$1"
}

ok() {          # ok STATUS DESCRIPTION: passes when STATUS is 0
        [ "$1" -eq 0 ] 2>/dev/null
        tap_result $? "$2"
        return 0
}

is() {          # is GOT EXPECTED DESCRIPTION
        [ "$1" = "$2" ]
        tap_result $? "$3" || diag "got:      '$1'" "expected: '$2'"
        return 0
}

cmp_le() {      # cmp_le GOT LIMIT DESCRIPTION: integers, GOT <= LIMIT
        [ "$1" -le "$2" ] 2>/dev/null
        tap_result $? "$3" || diag "got $1, expected at most $2"
        return 0
}

contains() {    # contains TEXT NEEDLE DESCRIPTION
        case "$1" in
        *"$2"*) tap_result 0 "$3" ;;
        *) tap_result 1 "$3" || diag "no '$2' in:" "$1" ;;
        esac
        return 0
}

like() {        # like FILE REGEX DESCRIPTION: grep -E finds REGEX in FILE
        grep -qE -- "$2" "$1" 2>/dev/null
        tap_result $? "$3" || { diag "/$2/ not found in $1:"; tail -n 15 "$1" 2>/dev/null | sed 's/^/#   /'; }
        return 0
}

unlike() {      # unlike FILE REGEX DESCRIPTION
        ! grep -qE -- "$2" "$1" 2>/dev/null
        tap_result $? "$3" || { diag "/$2/ found in $1:"; grep -nE -- "$2" "$1" | head -n 5 | sed 's/^/#   /'; }
        return 0
}

tap_done() {    # a script may define tap_before_done for checks every test of it ends with
        if declare -F tap_before_done >/dev/null; then
                tap_before_done
        fi
        echo "1..$tap_n"
        [ "$tap_failed" -eq 0 ]
}
