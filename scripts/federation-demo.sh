#!/usr/bin/env bash
# Two regions, a hub and a key holder on this machine, and a cross-region match between them
# (README "Federation", docs/federation.md). Every party is one `verwijsindex` command with its
# own folder, SQLite database and keys; this script starts them in the background, enrols
# them with each other, registers one child in each region and waits until both regions show
# the cliëntmatch. The servers stop when the script ends (Ctrl-C, or `--keep` leaves them up).
#
#   scripts/federation-demo.sh [--keep] [FOLDER]      (default: a new temporary folder)
#
# Ports: FEDERATION_DEMO_PORTS="keyholder hub regio-a regio-b" (default "8091 8090 8081 8082").
set -euo pipefail

keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; shift; fi
repository=$(cd "$(dirname "$0")/.." && pwd)
temporary=0
if [[ -n "${1:-}" ]]; then
  folder=$(mkdir -p "$1" && cd "$1" && pwd)
else
  folder=$(mktemp -d -t federation-demo.XXXXXX)
  temporary=1
fi
read -r keyholder_port hub_port a_port b_port <<<"${FEDERATION_DEMO_PORTS:-8091 8090 8081 8082}"
verwijsindex="$repository/.venv/bin/verwijsindex"
[[ -x "$verwijsindex" ]] || { echo "no $verwijsindex: run 'make venv' first" >&2; exit 2; }
for var in $(compgen -e | grep '^VERWIJSINDEX_' || true); do unset "$var"; done

pids=()
stop_all() {
  local status=$?
  if ((keep == 0)) && ((${#pids[@]})); then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  # A temporary folder goes when all went well; after a failure its logs stay for reading.
  if ((keep == 0 && temporary == 1 && status == 0)); then rm -rf "$folder"; fi
}
trap stop_all EXIT

# party NAME ARGS...: run `verwijsindex ARGS` in the party's folder with its settings.
party() {
  local name=$1; shift
  (cd "$folder/$name" && env "${settings[@]}" "$verwijsindex" "$@")
}

start() {  # start NAME PORT HEALTH ARGS...
  local name=$1 port=$2 health=$3; shift 3
  (cd "$folder/$name" && exec env "${settings[@]}" "$verwijsindex" "$@" --port "$port") \
    >"$folder/$name/server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port$health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "$name did not start; its log:" >&2; tail -20 "$folder/$name/server.log" >&2; exit 1
    fi
    sleep 0.2
  done
  echo "$name did not answer on port $port" >&2; exit 1
}

mkdir -p "$folder"/{keyholder,hub,regio-a,regio-b}
echo "federation demo in $folder"

settings=()
start keyholder "$keyholder_port" /federation/v1/health keyholder serve --workers 1
settings=("VERWIJSINDEX_FEDERATION_KEYHOLDER_URL=http://127.0.0.1:$keyholder_port")
start hub "$hub_port" /federation/v1/health hub serve --workers 1

# Enrolment: every member's public key to the key holder; the regions, with their address, to
# the hub. In real life each party sends its public key file to the others' beheerders.
for member in hub regio-a regio-b; do
  settings=()
  party "$member" federation public-key >"$folder/$member.pem"
  party keyholder keyholder enrol "$member" --public-key "$folder/$member.pem" >/dev/null
done
party hub hub enrol regio-a --public-key "$folder/regio-a.pem" --url "http://127.0.0.1:$a_port" >/dev/null
party hub hub enrol regio-b --public-key "$folder/regio-b.pem" --url "http://127.0.0.1:$b_port" >/dev/null

region_settings() {  # the four settings that make a region federate
  settings=(
    "VERWIJSINDEX_FEDERATION_NAME=$1"
    "VERWIJSINDEX_FEDERATION_HUB_URL=http://127.0.0.1:$hub_port"
    "VERWIJSINDEX_FEDERATION_HUB_KEY=$folder/hub.pem"
    "VERWIJSINDEX_FEDERATION_KEYHOLDER_URL=http://127.0.0.1:$keyholder_port"
    "VERWIJSINDEX_FEDERATION_POLL_SECONDS=0.5"
  )
}

id_of() { "$repository/.venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }

# register REGION PORT ORGANISATION SECTOR NAME EMAIL: a professional and a signal on the child.
register() {
  local region=$1 port=$2 organisation professional
  region_settings "$region"
  organisation=$(party "$region" admin create-organisation --name "$3" --sector "$4" --json | id_of)
  professional=$(party "$region" admin create-professional --organisation "$organisation" \
    --name "$5" --email "$6" --phone 0301234567 --json | id_of)
  token=$(party "$region" token --professional "$professional")
  curl -fs -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/signals" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"bsn": "111222333", "birthDate": "2014-05-01", "parentBsns": [],
         "informatieplicht": {"childInformed": true, "parentsInformed": true}}'
}

region_settings regio-a
start regio-a "$a_port" /api/v1/health serve --workers 1
region_settings regio-b
start regio-b "$b_port" /api/v1/health serve --workers 1

register regio-a "$a_port" "OBS De Linde" onderwijs "Anna Akkerman" anna@linde.example
token_a=$token
register regio-b "$b_port" "GGD Zuid" jeugdgezondheidszorg "Carla Claes" carla@ggd.example
token_b=$token

# wait_for_match PORT TOKEN OTHER: until the caller's matches name the other region's professional.
wait_for_match() {
  for _ in $(seq 1 150); do
    matches=$(curl -fs "http://127.0.0.1:$1/api/v1/matches" -H "Authorization: Bearer $2")
    if grep -q "$3" <<<"$matches"; then echo "$matches"; return 0; fi
    sleep 0.2
  done
  echo "no cross-region match within 30 s; logs in $folder/*/server.log" >&2
  return 1
}

echo "regio-a sees (GET /api/v1/matches as Anna Akkerman):"
wait_for_match "$a_port" "$token_a" "Carla Claes" | "$repository/.venv/bin/python" -m json.tool
echo "regio-b sees (as Carla Claes):"
wait_for_match "$b_port" "$token_b" "Anna Akkerman" | "$repository/.venv/bin/python" -m json.tool
if ((keep)); then
  echo "servers left running (pids ${pids[*]}); tokens: regio-a $token_a regio-b $token_b"
fi
