# Sourced by the tools/*/ensure-*.sh scripts (after they define `log`): installs a Debian package
# for the tests when it is missing. CI runs as root; elsewhere passwordless sudo is used if there
# is one. `apt-get update` runs only when the package lists do not know the package yet.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    log "need root to run: $*"
    return 1
  fi
}

# apt_install PACKAGE WHAT-TO-DO-WITHOUT-APT
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "$1 is not installed and apt-get is not available; $2"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show "$1" >/dev/null 2>&1; then
    log "apt-get update (the package lists do not know $1 yet)"
    as_root apt-get update -qq >&2
  fi
  log "installing $1 with apt-get"
  as_root apt-get install -y -qq "$1" >&2
}
