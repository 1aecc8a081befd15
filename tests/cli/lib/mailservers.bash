# SPDX-License-Identifier: MIT
# Real mail servers on 127.0.0.1 for the e-mail CLI tests (sourced): a
# private Dovecot (IMAP, plaintext login as user "test" with the password in
# $T/pw, Maildir $MAILDIR) and aiosmtpd (SMTP on $SPORT, delivering into the
# Maildir $T/out; start_smtp / stop_smtp). Sets T (the scratch folder,
# removed on exit), PY, IMAP (the mailbox URL), free_port, wait_port,
# imap_py, unseen and deliver. The test defines skip and fail first; the
# servers missing or not starting is a skip.
DOVECOT=$(command -v dovecot || true)
[ -n "$DOVECOT" ] || { [ -x /usr/sbin/dovecot ] && DOVECOT=/usr/sbin/dovecot; } || true
[ -n "$DOVECOT" ] || skip "dovecot is not installed (Debian: dovecot-imapd; \`make check\` installs it)"
PY=""
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import aiosmtpd' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip "python3 cannot import aiosmtpd (Debian: python3-aiosmtpd; \`make check\` installs it)"

T=$(mktemp -d)
DPID=""; SPID=""
stop_smtp() {
	if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=""; fi
}
cleanup() {
	stop_smtp
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT: up to 10 s
	for _ in $(seq 100); do
		"$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- Dovecot: unprivileged config of its own, passwd-file, Maildir here ----
IPORT=$(free_port)
if [ "$(id -u)" -eq 0 ]; then
	# as root Dovecot refuses to log in as root: mail runs as its own user
	id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || skip "users dovecot/dovenull missing"
	MUSER=dovecot; LUSER=dovenull; IUSER=dovecot; IGROUP=$(id -gn dovecot)
	chmod 755 "$T"
else
	MUSER=$(id -un); LUSER=$MUSER; IUSER=$MUSER; IGROUP=$(id -gn)
fi
MAILDIR=$T/mail/test
mkdir -p "$T/run" "$MAILDIR"/{new,cur,tmp}
echo "test:{PLAIN}s3cret-pw:$(id -u "$MUSER"):$(id -g "$MUSER")::$T/mail/test::" > "$T/passwd"
cat > "$T/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $T/run
state_dir = $T/run/state
log_path = $T/dovecot.log
info_log_path = $T/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $IUSER
default_internal_group = $IGROUP
default_login_user = $LUSER
first_valid_uid = 1
mail_location = maildir:$T/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $T/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IPORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
EOF
[ "$(id -u)" -eq 0 ] && chown -R "$MUSER" "$T/mail"
"$DOVECOT" -c "$T/dovecot.conf" 2>"$T/dovecot.start" || skip "dovecot does not start: $(head -c 300 "$T/dovecot.start")"
for _ in $(seq 50); do [ -s "$T/run/master.pid" ] && break; sleep 0.1; done
DPID=$(cat "$T/run/master.pid" 2>/dev/null || true)
wait_port "$IPORT" || skip "dovecot does not listen on 127.0.0.1:$IPORT: $(tail -3 "$T/dovecot.log" 2>/dev/null)"
printf 's3cret-pw\n' > "$T/pw"
IMAP=imap://127.0.0.1:$IPORT/INBOX

imap_py() { # imap_py 'python using M (logged in, INBOX selected)'
	"$PY" -c "import imaplib; M = imaplib.IMAP4('127.0.0.1', $IPORT, timeout=10); M.login('test', 's3cret-pw'); M.select('INBOX')
$1
M.logout()"
}
unseen() { imap_py "print(len(M.uid('search', None, 'UNSEEN')[1][0].split()))"; }
deliver() { # deliver NAME FROM SUBJECT MESSAGE-ID [EXTRA-HEADER...] < body: into new/, atomically
	local n=$1 from=$2 subject=$3 mid=$4; shift 4
	{ printf 'From: %s\r\nTo: Support <support@brightwave.example>\r\nSubject: %s\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <%s>\r\n' "$from" "$subject" "$mid"
	  for h in "$@"; do printf '%s\r\n' "$h"; done
	  printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'; sed 's/$/\r/'; } > "$MAILDIR/tmp/$n"
	[ "$(id -u)" -eq 0 ] && chown "$MUSER" "$MAILDIR/tmp/$n"
	mv "$MAILDIR/tmp/$n" "$MAILDIR/new/$n"
}

# ---- aiosmtpd ----
SPORT=$(free_port)
start_smtp() {
	"$PY" -m aiosmtpd -n -l "127.0.0.1:$SPORT" -c aiosmtpd.handlers.Mailbox "$T/out" >"$T/smtp.log" 2>&1 &
	SPID=$!
	wait_port "$SPORT" || skip "aiosmtpd does not listen on 127.0.0.1:$SPORT: $(tail -3 "$T/smtp.log")"
}
