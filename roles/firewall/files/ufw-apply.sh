#!/bin/sh
# tsplay firewall role, ufw backend.
#   ufw-apply.sh arm SECONDS    back up ufw's rules, start the rollback timer, make ufw match FW_RULES
#   ufw-apply.sh confirm        stop the timer
# FW_RULES: the role's rule list (part|proto|port|source|peer|what, one a line).
# FW_CHECK=yes: print what would change ("changed: ..."), change nothing. Every rule is
# queried first with `ufw --dry-run` ("Skipping adding existing rule" = present). Rules this
# role added earlier and no longer wants are deleted (listed in /etc/tsplay/firewall.ufw).
set -eu
PATH=/usr/sbin:/sbin:/usr/bin:/bin
state=/run/tsplay-firewall
record=/etc/tsplay/firewall.ufw
check=${FW_CHECK:-no}

cancel_timer() {
  if [ -f "$state/timer.pid" ]; then kill -TERM "-$(cat "$state/timer.pid")" 2>/dev/null || true; rm -f "$state/timer.pid"; fi
}
run() { # a change: printed, and made unless checking
  echo "changed: $*"
  if [ "$check" != yes ]; then "$@" >/dev/null; fi
}

case "$1" in
arm)
  seconds=$2
  wanted=$(mktemp)
  trap 'rm -f "$wanted"' EXIT
  # one rule a line: proto|source|port|comment (read back with read, never eval)
  printf '%s\n' "${FW_RULES:-}" | while IFS='|' read -r part proto port src peer what; do
    [ -n "$port" ] || continue
    printf '%s|%s|%s|%s\n' "$proto" "$src" "$(echo "$port" | tr - :)" "tsplay: $part: $what from $peer"
  done >"$wanted"
  if [ "$check" != yes ]; then
    mkdir -p "$state"
    cancel_timer
    rm -f "$state/rolled-back"
    mkdir -p "$state/ufw" && cp -p /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf "$state/ufw/"
    if ufw status | grep -q '^Status: active'; then undo=reload; else undo=disable; fi
    # values reach the timer as arguments, never as code
    setsid sh -c 'sleep "$1"; cp -p "$2"/ufw/* /etc/ufw/ && ufw --force "$3"; date >"$2/rolled-back"; rm -f "$2/timer.pid"' \
      rollback "$seconds" "$state" "$undo" </dev/null >/dev/null 2>&1 &
    echo $! >"$state/timer.pid"
  fi
  # a rule is there (with this comment) when ufw would skip adding it
  present() { ufw --dry-run allow proto "$1" from "$2" to any port "$3" comment "$4" 2>/dev/null | grep -q 'Skipping adding existing rule'; }
  # SSH from the admin sources comes first in FW_RULES, so it is in place before ufw is enabled
  while IFS='|' read -r proto src port comment; do
    present "$proto" "$src" "$port" "$comment" || run ufw allow proto "$proto" from "$src" to any port "$port" comment "$comment"
  done <"$wanted"
  if [ -f "$record" ]; then
    while IFS='|' read -r proto src port comment; do
      awk -F'|' -v p="$proto" -v s="$src" -v o="$port" '$1 == p && $2 == s && $3 == o { f = 1 } END { exit !f }' "$wanted" && continue
      if present "$proto" "$src" "$port" "$comment"; then run ufw delete allow proto "$proto" from "$src" to any port "$port"; fi
    done <"$record"
  fi
  if ! ufw status verbose | grep -q 'Default: deny (incoming)'; then run ufw default deny incoming; fi
  if ! ufw status | grep -q '^Status: active'; then run ufw --force enable; fi
  # the record of what the role added is written when the change is confirmed
  if [ "$check" != yes ]; then cp "$wanted" "$state/wanted"; fi
  ;;
confirm)
  if [ "$check" = yes ]; then exit 0; fi
  if [ -f "$state/rolled-back" ]; then echo "the rollback timer already restored ufw's previous rules" >&2; exit 1; fi
  cancel_timer
  if [ -f "$state/wanted" ]; then mv -f "$state/wanted" "$record"; fi
  rm -rf "$state/ufw"
  ;;
*) echo "usage: $0 arm SECONDS | confirm" >&2; exit 2 ;;
esac
