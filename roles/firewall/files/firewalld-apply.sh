#!/bin/sh
# tsplay firewall role, firewalld backend (permanent rich rules in one zone, then a reload).
#   firewalld-apply.sh arm ZONE SECONDS   back up the zone, start the rollback timer, make the zone match FW_RULES
#   firewalld-apply.sh confirm            stop the timer
# FW_RULES: the role's rule list (part|proto|port|source|peer|what, one a line).
# FW_CHECK=yes: print what would change ("changed: ..."), change nothing. Each rule is
# queried first (--query-rich-rule); rules this role added earlier and no longer wants are
# removed (listed in /etc/tsplay/firewall.firewalld).
set -eu
# FW_EXTRA_PATH, FW_STATE, FW_RECORD, FW_ZONES_DIR: test hooks (spec/roles/firewall.test.ts)
PATH=${FW_EXTRA_PATH:+$FW_EXTRA_PATH:}/usr/sbin:/sbin:/usr/bin:/bin
state=${FW_STATE:-/run/tsplay-firewall}
record=${FW_RECORD:-/etc/tsplay/firewall.firewalld}
zones=${FW_ZONES_DIR:-/etc/firewalld/zones}
check=${FW_CHECK:-no}

cancel_timer() {
  if [ -f "$state/timer.pid" ]; then kill -TERM "-$(cat "$state/timer.pid")" 2>/dev/null || true; rm -f "$state/timer.pid"; fi
}
run() {
  echo "changed: $*"
  if [ "$check" != yes ]; then "$@" >/dev/null; fi
}

case "$1" in
arm)
  zone=$2 seconds=$3
  wanted=$(mktemp)
  trap 'rm -f "$wanted"' EXIT
  printf '%s\n' "${FW_RULES:-}" | while IFS='|' read -r part proto port src peer what; do
    [ -n "$port" ] || continue
    case "$src" in *:*) family=ipv6 ;; *) family=ipv4 ;; esac
    printf 'rule family="%s" source address="%s" port port="%s" protocol="%s" accept\n' "$family" "$src" "$port" "$proto"
  done >"$wanted"
  changes=0
  if [ "$check" != yes ]; then
    mkdir -p "$state"
    cancel_timer
    rm -f "$state/rolled-back"
    mkdir -p "$state/firewalld"
    rm -f "$state/firewalld/$zone.xml"
    if [ -f "$zones/$zone.xml" ]; then cp -p "$zones/$zone.xml" "$state/firewalld/"; fi
    # the saved zone file comes back (or the zone file goes, if there was none); values reach
    # the timer as arguments, never as code
    setsid sh -c 'sleep "$1"; if [ -f "$2/firewalld/$4.xml" ]; then cp -p "$2/firewalld/$4.xml" "$3/"; else rm -f "$3/$4.xml"; fi; firewall-cmd --reload; date >"$2/rolled-back"; rm -f "$2/timer.pid"' \
      rollback "$seconds" "$state" "$zones" "$zone" </dev/null >/dev/null 2>&1 &
    echo $! >"$state/timer.pid"
  fi
  while IFS= read -r rule; do
    if ! firewall-cmd --permanent --zone="$zone" --query-rich-rule="$rule" >/dev/null 2>&1; then
      run firewall-cmd --permanent --zone="$zone" --add-rich-rule="$rule"; changes=1
    fi
  done <"$wanted"
  if [ -f "$record" ]; then
    while IFS= read -r rule; do
      grep -qxF "$rule" "$wanted" && continue
      if firewall-cmd --permanent --zone="$zone" --query-rich-rule="$rule" >/dev/null 2>&1; then
        run firewall-cmd --permanent --zone="$zone" --remove-rich-rule="$rule"; changes=1
      fi
    done <"$record"
  fi
  # the zone's ssh service would let anyone in: SSH comes from the admin rules only
  if firewall-cmd --permanent --zone="$zone" --query-service=ssh >/dev/null 2>&1; then
    run firewall-cmd --permanent --zone="$zone" --remove-service=ssh; changes=1
  fi
  if [ "$changes" = 1 ]; then run firewall-cmd --reload; fi
  # the record of what the role added is written when the change is confirmed
  if [ "$check" != yes ]; then cp "$wanted" "$state/wanted"; fi
  ;;
confirm)
  if [ "$check" = yes ]; then exit 0; fi
  if [ -f "$state/rolled-back" ]; then echo "the rollback timer already restored firewalld's previous zone" >&2; exit 1; fi
  cancel_timer
  if [ -f "$state/wanted" ]; then mv -f "$state/wanted" "$record"; fi
  rm -rf "$state/firewalld"
  ;;
*) echo "usage: $0 arm ZONE SECONDS | confirm" >&2; exit 2 ;;
esac
