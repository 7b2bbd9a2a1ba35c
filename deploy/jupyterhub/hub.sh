#!/usr/bin/env bash
# The course on a local JupyterHub (what `make hub` and `make hub-stop` run).
#   deploy/jupyterhub/hub.sh start   # the hub on http://127.0.0.1:$HUB_PORT, accounts printed
#   deploy/jupyterhub/hub.sh stop
# Everything it writes is under $HUB_STATE (default .hub/): the hub's database, each user's home,
# nbgrader's exchange, and a copy of the course (source/, release/, nbgrader_config.py) that the
# instructor works in and the autograder grades into, so the repository's own folders stay as they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export HUB_STATE=${HUB_STATE:-$repo/.hub}
export HUB_PORT=${HUB_PORT:-8000} HUB_STUDENTS=${HUB_STUDENTS:-3} HUB_PASSWORD=${HUB_PASSWORD:-transfer-demo}
bin=${HUB_BIN:-$repo/.venv/bin}

# a user's JupyterLab: no news pop-up (there is no internet to fetch it from); students without the
# instructor's menus (their server runs without formgrader, see user-config/jupyter_server_config.py)
settings() {
  local home=$1 user=$2
  mkdir -p "$home/.jupyter/lab/user-settings/@jupyterlab/apputils-extension" "$home/.jupyter/labconfig"
  echo '{"fetchNews": "false", "checkForUpdates": false}' \
    >"$home/.jupyter/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
  if [ "$user" != instructor ]; then
    echo '{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:create-assignment": true,
      "@jupyter/nbgrader:course-list": true}}' >"$home/.jupyter/labconfig/page_config.json"
  fi
}

start() {
  mkdir -p "$HUB_STATE/home" "$HUB_STATE/exchange"
  chmod 0777 "$HUB_STATE/exchange"  # nbgrader's exchange: every user writes into it
  if [ ! -d "$HUB_STATE/course" ]; then
    mkdir -p "$HUB_STATE/course"
    cp -r "$repo/source" "$repo/release" "$repo/nbgrader_config.py" "$HUB_STATE/course/"
  fi
  for user in instructor $(seq -f 'student%g' 1 "$HUB_STUDENTS"); do settings "$HUB_STATE/home/$user" "$user"; done
  if [ -f "$HUB_STATE/jupyterhub.pid" ] && kill -0 "$(cat "$HUB_STATE/jupyterhub.pid")" 2>/dev/null; then
    echo "the hub is already running on http://127.0.0.1:$HUB_PORT"; return
  fi
  # its own session, and none of this shell's descriptors: whoever started `make hub` may wait for its output
  (cd "$HUB_STATE" && PATH="$bin:$PATH" exec setsid "$bin/jupyterhub" -f "$here/jupyterhub_config.py") \
    >"$HUB_STATE/jupyterhub.log" 2>&1 </dev/null &
  echo $! >"$HUB_STATE/jupyterhub.pid"
  for _ in $(seq 60); do
    kill -0 "$(cat "$HUB_STATE/jupyterhub.pid")" 2>/dev/null || break  # it stopped: no use waiting
    if curl -sf "http://127.0.0.1:$HUB_PORT/hub/api" >/dev/null; then
      echo "JupyterHub: http://127.0.0.1:$HUB_PORT  (log: $HUB_STATE/jupyterhub.log)"
      echo "accounts: instructor, $(seq -s ', ' -f 'student%g' 1 "$HUB_STUDENTS"); password: $HUB_PASSWORD (demo only)"
      echo "release an assignment: in the instructor's terminal, cd \$TL_COURSE_ROOT && nbgrader release_assignment m1_concepts"
      return
    fi
    sleep 1
  done
  echo "the hub did not come up; its log:" >&2; tail -30 "$HUB_STATE/jupyterhub.log" >&2; exit 1
}

# every process working inside the hub's folder: the hub, its proxy, the users' servers, the autograder
hub_processes() {
  for proc in /proc/[0-9]*; do
    case $(readlink "$proc/cwd" 2>/dev/null) in "$HUB_STATE"|"$HUB_STATE"/*) echo "${proc#/proc/}" ;; esac
  done
}

stop() {
  if [ -f "$HUB_STATE/jupyterhub.pid" ]; then
    pid=$(cat "$HUB_STATE/jupyterhub.pid")
    kill "$pid" 2>/dev/null || true  # the hub stops its proxy, the users' servers and the autograder
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$HUB_STATE/jupyterhub.pid"
  fi
  left=$(hub_processes)
  if [ -n "$left" ]; then kill -9 $left 2>/dev/null || true; fi  # what a hub killed mid-way left behind
  echo "the hub is stopped (its state stays in $HUB_STATE)"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
