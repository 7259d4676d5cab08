#!/bin/sh
# tsplay firewall role, nftables backend: apply the rule file with a dead man's switch.
#   nft-apply.sh arm FILE SECONDS    save our table, start the rollback timer, load FILE
#                                    (the rollback restores the table, and FILE to match it)
#   nft-apply.sh confirm FILE        stop the timer; record FILE and the live table
#   nft-apply.sh status FILE         are FILE and the live table the ones last confirmed? (same/differs)
# FW_CHECK=yes: say what would happen, change nothing. Only table inet tsplay_firewall is
# saved and restored: other tables (the distro's, Docker's, kube-proxy's) are never touched,
# and a whole-ruleset restore would undo what they changed meanwhile.
set -eu
PATH=/usr/sbin:/sbin:/usr/bin:/bin
table='inet tsplay_firewall'
state=/run/tsplay-firewall
applied=/etc/tsplay/firewall.applied
check=${FW_CHECK:-no}

cancel_timer() {
  if [ -f "$state/timer.pid" ]; then
    pid=$(cat "$state/timer.pid")
    # the timer is a session leader (setsid): its process group is its pid
    kill -TERM "-$pid" 2>/dev/null || true
    rm -f "$state/timer.pid"
  fi
}

case "$1" in
status)
  file=$2
  live=$(mktemp)
  # a run stopped between writing FILE and loading it leaves FILE new and the table old
  if nft list table $table >"$live" 2>/dev/null && cmp -s "$live" "$applied" 2>/dev/null && cmp -s "$file" "$applied.src" 2>/dev/null; then echo same; else echo differs; fi
  rm -f "$live"
  ;;
arm)
  file=$2 seconds=$3
  if [ "$check" = yes ]; then echo "changed: would load $file (rollback after ${seconds}s unless confirmed)"; exit 0; fi
  mkdir -p "$state"
  cancel_timer
  rm -f "$state/rolled-back"
  # the rollback: our table as it is now, or no table if there is none yet
  { echo "table $table"; echo "delete table $table"; nft list table $table 2>/dev/null || true; } >"$state/rollback.nft"
  # the timer also puts the old rules back in FILE, so a reboot does not load the rejected ones
  # values reach the timer as arguments, never as code
  setsid sh -c 'sleep "$1"; nft -f "$2/rollback.nft" && cp "$2/rollback.nft" "$3" && date >"$2/rolled-back"; rm -f "$2/timer.pid"' \
    rollback "$seconds" "$state" "$file" </dev/null >/dev/null 2>&1 &
  echo $! >"$state/timer.pid"
  if ! out=$(nft -f "$file" 2>&1); then
    cancel_timer
    nft -f "$state/rollback.nft" && cp "$state/rollback.nft" "$file" || true
    echo "nft -f $file failed, previous rules kept: $out" >&2
    exit 1
  fi
  echo "changed: loaded $file; rollback in ${seconds}s unless confirmed"
  ;;
confirm)
  if [ "$check" = yes ]; then exit 0; fi
  if [ -f "$state/rolled-back" ]; then
    echo "the rollback timer already restored the previous rules (at $(cat "$state/rolled-back"))" >&2
    exit 1
  fi
  file=$2
  cancel_timer
  nft list table $table >"$applied.tmp" && mv -f "$applied.tmp" "$applied"
  cp "$file" "$applied.src"
  rm -f "$state/rollback.nft"
  echo confirmed
  ;;
*)
  echo "usage: $0 arm FILE SECONDS | confirm FILE | status FILE" >&2
  exit 2
  ;;
esac
