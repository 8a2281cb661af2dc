#!/usr/bin/env bash
# One-click installer for Agent Appliance.
#
#   installer/install.sh [--dev] [--run] [--service] [--desktop] [--data-dir D] [--port P]
#
# Creates .venv in the project root, installs the appliance into it, initialises a data
# directory with a "demo" tenant (admin password written to a 0600 file), and optionally
# installs a systemd user service, a desktop entry, or starts the server.
# Running it again is quick and harmless: finished steps are detected and skipped.
set -euo pipefail

PROG="install.sh"
TORCH_PIN="torch==2.13.0"
MIN_FREE_GB=6
PYTHON_HINT="apt-get install python3.11 python3.11-venv"
BUILD_HINT="apt-get install build-essential cmake"
TEST_DEB_PACKAGES=(chromium chromium-driver dovecot-imapd dovecot-pop3d python3.11-doc prometheus
    poppler-utils libreoffice-calc-nogui
    debian-faq debian-reference-en developers-reference debian-policy libtasn1-doc nettle-dev
    shared-mime-info nginx-light redis-server)
# needed at run time: the Unicode font embedded in PDF reports (without it, PDFs fall
# back to Helvetica and note every character it cannot draw), and pdftoppm for the
# previews of PDF reports in the UI
RUNTIME_DEB_PACKAGES=(fonts-dejavu-core poppler-utils)

die() {
    echo "$PROG: $*" >&2
    exit 1
}
step() { echo "==> $*"; }
note() { echo "    $*"; }

usage() {
    cat <<'EOF'
usage: installer/install.sh [--dev] [--run] [--service] [--desktop] [--data-dir D] [--port P]

  --dev         also install the test extras and the Debian packages the tests need
                (chromium chromium-driver dovecot-imapd dovecot-pop3d python3.11-doc; needs root)
  --run         start the server at the end (appliance serve)
  --service     write a systemd user unit: ~/.config/systemd/user/agent-appliance.service
  --desktop     write a desktop entry that starts the server and opens the browser
  --data-dir D  data directory (default: $APPLIANCE_DATA_DIR, else
                ${XDG_DATA_HOME:-~/.local/share}/agent-appliance)
  --port P      port to serve on (default 8080)
EOF
}

# ---------------------------------------------------------------- arguments
DEV=0 RUN=0 SERVICE=0 DESKTOP=0
PORT=8080
DATA_DIR="${APPLIANCE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/agent-appliance}"

while (($#)); do
    case "$1" in
        --dev) DEV=1 ;;
        --run) RUN=1 ;;
        --service) SERVICE=1 ;;
        --desktop) DESKTOP=1 ;;
        --data-dir | --port)
            (($# >= 2)) || die "$1 needs a value (see --help)"
            if [[ $1 == --port ]]; then PORT=$2; else DATA_DIR=$2; fi
            shift
            ;;
        --data-dir=*) DATA_DIR=${1#*=} ;;
        --port=*) PORT=${1#*=} ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
    die "--port must be a number from 1 to 65535, not '$PORT'"
fi
PORT=$((10#$PORT))
[[ -n $DATA_DIR ]] || die "--data-dir must not be empty"
# a literal ~ survives in --data-dir=~/x; expand it like the shell would
# shellcheck disable=SC2088
case "$DATA_DIR" in
    "~") DATA_DIR=$HOME ;;
    "~/"*) DATA_DIR="$HOME/${DATA_DIR#"~/"}" ;;
    /*) ;;
    *) DATA_DIR="$PWD/$DATA_DIR" ;;
esac

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT_DIR/.venv"
STAMP="$VENV/.agent-appliance-install"
APPLIANCE="$VENV/bin/appliance"
CONFIG_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/agent-appliance"
PASSWORD_FILE="$CONFIG_DIR/initial-admin-password"
URL="http://127.0.0.1:$PORT/"

[[ -f $PROJECT_DIR/pyproject.toml ]] || die "no pyproject.toml in $PROJECT_DIR; run the installer from a full checkout"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1
HAVE_APT=0
command -v apt-get >/dev/null 2>&1 && HAVE_APT=1

# ---------------------------------------------------------------- helpers
python_ok() { # python_ok CMD: CMD runs and is Python >= 3.11 with venv + ensurepip
    "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
        >/dev/null 2>&1
}

deb_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

apt_install() { # apt_install PKG...: install as root via apt-get
    step "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update || die "apt-get update failed (see above)"
    apt-get install -y --no-install-recommends "$@" || die "apt-get install $* failed (see above)"
}

have_build_tools() {
    command -v cmake >/dev/null 2>&1 &&
        { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; } &&
        { command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1; }
}

pip_run() { # pip_run ARGS...: pip in the venv, without the harmless local-index warnings
    "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 |
        { grep -v -E "^WARNING: Location '.*' is ignored" || true; }
}

file_hash() {
    "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

free_kib() {
    df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'
}

# ---------------------------------------------------------------- python
PYTHON_FROM_ENV=${PYTHON:-}
PYTHON=""
for candidate in "$PYTHON_FROM_ENV" python3 python3.13 python3.12 python3.11; do
    [[ -n $candidate ]] || continue
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
        PYTHON=$candidate
        break
    fi
done
[[ -n $PYTHON ]] || die "Python 3.11 or newer with the venv module is needed; install it (Debian: $PYTHON_HINT)"

# ---------------------------------------------------------------- what needs doing
WANT_EXTRAS=none
((DEV)) && WANT_EXTRAS="test"
PYPROJECT_HASH=$(file_hash "$PROJECT_DIR/pyproject.toml")

venv_usable() { # the venv's python runs, is new enough, and the venv was made at this path
    [[ -x $VENV/bin/python ]] || return 1
    "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
        >/dev/null 2>&1 || return 1
    # a venv copied or moved from elsewhere has scripts whose #! lines point there
    # (long paths use pip's "#!/bin/sh" + "'''exec' PATH" form)
    [[ -f $VENV/bin/pip ]] || return 0
    local line
    while IFS= read -r line; do
        line=${line#"'''exec' "}
        line=${line#\"}
        [[ $line == "#!$VENV/bin/python"* || $line == "$VENV/bin/python"* ]] && return 0
    done < <(head -n 2 "$VENV/bin/pip")
    return 1
}

venv_current() {
    [[ -x $APPLIANCE && -f $STAMP ]] && venv_usable || return 1
    local hash extras
    hash=$(sed -n 's/^pyproject=//p' "$STAMP")
    extras=$(sed -n 's/^extras=//p' "$STAMP")
    [[ $hash == "$PYPROJECT_HASH" ]] || return 1
    [[ $WANT_EXTRAS == none || $extras == test ]]
}

NEED_INSTALL=1
venv_current && NEED_INSTALL=0

# ---------------------------------------------------------------- Debian packages
MISSING_RUNTIME=()
if ((HAVE_APT)); then
    for pkg in "${RUNTIME_DEB_PACKAGES[@]}"; do
        deb_installed "$pkg" || MISSING_RUNTIME+=("$pkg")
    done
fi
if ((${#MISSING_RUNTIME[@]})); then
    if ((IS_ROOT)); then
        apt_install "${MISSING_RUNTIME[@]}"
    else
        echo "$PROG: warning: PDF reports need Debian packages that are missing; as root, run:" >&2
        echo "    apt-get update && apt-get install -y --no-install-recommends ${MISSING_RUNTIME[*]}" >&2
    fi
fi
NEED_BUILD_TOOLS=0
((NEED_INSTALL)) && ! have_build_tools && NEED_BUILD_TOOLS=1
MISSING_TEST=()
if ((DEV && HAVE_APT)); then
    for pkg in "${TEST_DEB_PACKAGES[@]}"; do
        deb_installed "$pkg" || MISSING_TEST+=("$pkg")
    done
fi
if ((DEV && IS_ROOT && HAVE_APT)); then
    APT_WANTED=("${MISSING_TEST[@]}")
    ((NEED_BUILD_TOOLS)) && APT_WANTED=(build-essential cmake "${APT_WANTED[@]}")
    if ((${#APT_WANTED[@]})); then
        apt_install "${APT_WANTED[@]}"
        if ((NEED_BUILD_TOOLS)) && ! have_build_tools; then
            die "a C/C++ compiler and cmake are still missing after apt-get ($BUILD_HINT)"
        fi
    fi
else
    if ((${#MISSING_TEST[@]})); then
        echo "$PROG: warning: the tests need Debian packages that are missing; as root, run:" >&2
        echo "    apt-get update && apt-get install -y --no-install-recommends ${MISSING_TEST[*]}" >&2
    fi
    ((NEED_BUILD_TOOLS)) &&
        die "a C/C++ compiler and cmake are needed to build llama-cpp-python; install them (Debian: $BUILD_HINT)"
fi

# ---------------------------------------------------------------- venv + packages
if ((NEED_INSTALL)); then
    free=$(free_kib "$PROJECT_DIR")
    [[ $free =~ ^[0-9]+$ ]] || die "cannot tell the free disk space in $PROJECT_DIR (df failed)"
    if ((free < MIN_FREE_GB * 1024 * 1024)); then
        die "at least $MIN_FREE_GB GB of free disk is needed in $PROJECT_DIR, only $((free / 1024)) MB is free"
    fi

    if venv_usable; then
        step "reusing $VENV"
    else
        step "creating $VENV with $("$PYTHON" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])')"
        "$PYTHON" -m venv --clear "$VENV" || die "could not create $VENV ($PYTHON -m venv failed; Debian: $PYTHON_HINT)"
    fi
    rm -f "$STAMP"

    # torch first, pinned, so nothing else can resolve a (huge) CUDA build
    step "installing $TORCH_PIN"
    pip_run install "$TORCH_PIN" || die "pip install $TORCH_PIN failed (see above)"

    target="."
    [[ $WANT_EXTRAS == test ]] && target=".[test]"
    step "installing the appliance: pip install -e \"$target\" (the first run builds llama-cpp-python, several minutes)"
    (cd "$PROJECT_DIR" && pip_run install -e "$target") || die "pip install -e \"$target\" failed (see above)"
    [[ -x $APPLIANCE ]] || die "the 'appliance' command was not installed into $VENV/bin; check [project.scripts] in pyproject.toml"

    printf 'pyproject=%s\nextras=%s\n' "$PYPROJECT_HASH" "$WANT_EXTRAS" >"$STAMP"
else
    step "$VENV is up to date (pyproject.toml unchanged); skipping pip"
fi

# ---------------------------------------------------------------- data directory
PASSWORD_NOTE=""
if [[ -f $DATA_DIR/system.db ]]; then
    step "data directory $DATA_DIR is already initialised"
    [[ -f $PASSWORD_FILE ]] && PASSWORD_NOTE="$PASSWORD_FILE"
else
    step "initialising $DATA_DIR (admin user 'admin', demo tenant 'demo')"
    mkdir -p "$CONFIG_DIR" || die "cannot create $CONFIG_DIR"
    chmod 700 "$CONFIG_DIR" 2>/dev/null || true
    created_password=0
    # An existing file is kept (it may be the only copy of another data dir's password);
    # its password is used for this data directory's admin as well.
    if [[ ! -s $PASSWORD_FILE ]] || (($(head -n 1 "$PASSWORD_FILE" | wc -c) < 13)); then
        (
            umask 077
            "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$PASSWORD_FILE.tmp"
        ) || die "cannot write $PASSWORD_FILE"
        mv -f "$PASSWORD_FILE.tmp" "$PASSWORD_FILE"
        created_password=1
    fi
    chmod 600 "$PASSWORD_FILE"
    set +e
    "$APPLIANCE" init --data-dir "$DATA_DIR" --demo --admin-password-file "$PASSWORD_FILE"
    rc=$?
    set -e
    if ((rc != 0)); then
        ((created_password)) && rm -f "$PASSWORD_FILE"
        die "'appliance init --data-dir $DATA_DIR' failed (exit $rc, see its message above); fix that and run install.sh again"
    fi
    PASSWORD_NOTE="$PASSWORD_FILE"
fi

# ---------------------------------------------------------------- systemd user service
if ((SERVICE)); then
    unit_dir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
    unit="$unit_dir/agent-appliance.service"
    template="$PROJECT_DIR/installer/appliance.service.in"
    [[ -f $template ]] || die "missing $template"
    systemd_path() { # quote for a systemd ExecStart= word; % is a specifier there
        local s=${1//%/%%}
        s=${s//\\/\\\\}
        s=${s//\"/\\\"}
        s=${s//\$/\$\$}
        printf '"%s"' "$s"
    }
    content=$(<"$template")
    content=${content//@APPLIANCE@/"$(systemd_path "$APPLIANCE")"}
    content=${content//@DATA_DIR@/"$(systemd_path "$DATA_DIR")"}
    content=${content//@PORT@/"$PORT"}
    content=${content//@PROJECT_DIR@/"${PROJECT_DIR//%/%%}"}
    mkdir -p "$unit_dir" || die "cannot create $unit_dir"
    if [[ -f $unit ]] && [[ $(<"$unit") == "$content" ]]; then
        step "systemd user unit $unit is up to date"
    else
        printf '%s\n' "$content" >"$unit" || die "cannot write $unit"
        step "wrote systemd user unit $unit"
    fi
    # the template of extra queue workers (not enabled: docs/scaling.md says when)
    worker_template="$PROJECT_DIR/installer/appliance-worker@.service.in"
    if [[ -f $worker_template ]]; then
        worker=$(<"$worker_template")
        worker=${worker//@APPLIANCE@/"$(systemd_path "$APPLIANCE")"}
        worker=${worker//@DATA_DIR@/"$(systemd_path "$DATA_DIR")"}
        worker=${worker//@PROJECT_DIR@/"${PROJECT_DIR//%/%%}"}
        printf '%s\n' "$worker" >"$unit_dir/agent-appliance-worker@.service" ||
            die "cannot write $unit_dir/agent-appliance-worker@.service"
    fi
    if command -v systemctl >/dev/null 2>&1; then
        note "to start it now and at every login:"
        note "  systemctl --user daemon-reload"
        note "  systemctl --user enable --now agent-appliance.service"
        note "to keep it running while you are logged out: loginctl enable-linger $(id -un)"
        note "logs: journalctl --user -u agent-appliance.service -f"
    else
        note "systemctl was not found; the unit is ready for a machine that runs systemd"
    fi
fi

# ---------------------------------------------------------------- desktop entry
if ((DESKTOP)); then
    apps_dir="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
    entry="$apps_dir/agent-appliance.desktop"
    template="$PROJECT_DIR/installer/appliance.desktop.in"
    [[ -f $template ]] || die "missing $template"
    log_dir="${XDG_STATE_HOME:-$HOME/.local/state}/agent-appliance"
    mkdir -p "$log_dir" "$apps_dir" || die "cannot create $log_dir or $apps_dir"
    # Exec: if nothing listens on the port, start the server detached and wait for it;
    # then open the browser. No curl needed: bash's /dev/tcp probes the port.
    probe="(: </dev/tcp/127.0.0.1/$PORT) 2>/dev/null"
    printf -v serve_cmd '%q serve --data-dir %q --port %q' "$APPLIANCE" "$DATA_DIR" "$PORT"
    printf -v log_file '%q' "$log_dir/server.log"
    script="$probe || { setsid -f $serve_cmd >>$log_file 2>&1 </dev/null; for i in {1..90}; do sleep 1; $probe && break; done; }; xdg-open $URL"
    # desktop-entry quoting: inside "...", escape \ " \` $ with a backslash; then the
    # string-level escape doubles every backslash; % is a field code and becomes %%
    desktop_arg() {
        local s=$1
        s=${s//\\/\\\\}
        s=${s//\"/\\\"}
        s=${s//\`/\\\`}
        s=${s//\$/\\\$}
        s=${s//\\/\\\\}
        s=${s//%/%%}
        printf '"%s"' "$s"
    }
    exec_line="bash -c $(desktop_arg "$script")"
    content=$(<"$template")
    content=${content//@EXEC@/"$exec_line"}
    content=${content//@URL@/"$URL"}
    if [[ -f $entry ]] && [[ $(<"$entry") == "$content" ]]; then
        step "desktop entry $entry is up to date"
    else
        printf '%s\n' "$content" >"$entry" || die "cannot write $entry"
        chmod 644 "$entry"
        step "wrote desktop entry $entry (server log: $log_dir/server.log)"
    fi
    command -v xdg-open >/dev/null 2>&1 ||
        note "xdg-open was not found; the desktop entry needs it (Debian: apt-get install xdg-utils)"
fi

# ---------------------------------------------------------------- summary
echo
echo "Agent Appliance is installed."
echo "  data directory: $DATA_DIR"
if [[ -n $PASSWORD_NOTE ]]; then
    echo "  sign in as 'admin' with the password in $PASSWORD_NOTE (delete it after your first sign-in)"
else
    echo "  sign in with the admin password set when $DATA_DIR was initialised"
fi
if ((RUN)); then
    echo "  starting the server on $URL (Ctrl-C stops it)"
    exec "$APPLIANCE" serve --data-dir "$DATA_DIR" --port "$PORT"
fi
echo "  start it with: $APPLIANCE serve --data-dir $(printf '%q' "$DATA_DIR") --port $PORT"
echo "  then open:     $URL"
