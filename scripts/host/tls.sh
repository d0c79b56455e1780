#!/usr/bin/env bash
# tls.sh [apply] [--dry-run]: make nginx serve DOMAIN the right way, idempotently.
#   - TLS_ENABLED=false: HTTP only (the runbook's dev), no certbot, no renew timer.
#   - No certificate yet: serve HTTP (with the ACME webroot) first, so the site never goes dark,
#     then issue one with certbot (webroot); on success switch nginx to HTTPS. If certbot fails,
#     nginx keeps serving HTTP and the script exits 1 with certbot's reason.
#   - Certificate present: HTTPS on 443, port 80 answers ACME challenges and redirects.
#   - Installs <app>-certbot-renew.timer, which runs `tls.sh renew` twice a day.
#   nginx's configuration is replaced only when the generated text differs, checked with
#   NGINX_TEST_CMD (the old file is put back if the check fails), then nginx is reloaded.
#   --dry-run: certbot --dry-run (Let's Encrypt staging, nothing saved); prints what it would
#   write and run, and changes nothing on this machine.
# tls.sh renew [--dry-run]: certbot renew; reloads nginx when a certificate changed.
#
# Exit codes: 0 nginx serves the site as configured (renew: renewed and reloaded, or not due);
# 1 nginx rejected the site (the previous one is back), a reload failed, or certbot failed; 2 usage
# or settings; 129/130/143 interrupted by a signal. A real apply audits started and its outcome.
set -euo pipefail
# shellcheck source=scripts/host/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOMAIN=${DOMAIN:-}
TLS_ENABLED=${TLS_ENABLED:-true}
CERTBOT_EMAIL=${CERTBOT_EMAIL:-}
WEBROOT=${WEBROOT:-/var/www/certbot}
# On the data volume (STATE_DIR), so a replacement host serves HTTPS with the kept certificate and
# never asks Let's Encrypt again (rate limits). Hosts that issued into /etc/letsencrypt before
# move it here at their next apply (see keep_certificate).
LETSENCRYPT_DIR=${LETSENCRYPT_DIR:-$STATE_DIR/letsencrypt}
OLD_LETSENCRYPT_DIR=${OLD_LETSENCRYPT_DIR:-/etc/letsencrypt}
APP_UPSTREAM=${APP_UPSTREAM:-http://127.0.0.1:3000}
NGINX_SITE_FILE=${NGINX_SITE_FILE:-/etc/nginx/conf.d/$APP_NAME.conf}
NGINX_TEST_CMD=${NGINX_TEST_CMD:-nginx -t}
NGINX_RELOAD_CMD=${NGINX_RELOAD_CMD:-systemctl reload-or-restart nginx}
# certbot runs as root with the private keys mounted: the image is pinned by digest (certbot
# v5.8.0, multi-arch index), so a retagged or compromised :latest can never run here.
CERTBOT_IMAGE=${CERTBOT_IMAGE:-docker.io/certbot/certbot@sha256:f70ad0adbb7e117f0fe42a63c553f28ea451edabc0148757b6efcd9735acaa20}
[[ $CERTBOT_IMAGE =~ @sha256:[0-9a-f]{64}$ ]] || die "CERTBOT_IMAGE '$CERTBOT_IMAGE' is not pinned by digest (name@sha256:<64 hex>)"
CERTBOT_CMD=${CERTBOT_CMD:-docker run --rm -v $LETSENCRYPT_DIR:/etc/letsencrypt -v $WEBROOT:$WEBROOT $CERTBOT_IMAGE}
RENEW_SCHEDULE=${RENEW_SCHEDULE:-*-*-* 00,12:00:00}
# With BLUE_GREEN=true the site proxies to the colours' upstream (APP_UPSTREAM=http://<name>),
# defined in the include file switch.sh owns: its settings and upstream text are switch.sh's.
# shellcheck source=scripts/host/switch.sh
. "$HOST_SCRIPT_DIR/switch.sh"

action=apply dry_run=0
for arg in "$@"; do
  case $arg in
    apply | renew) action=$arg ;;
    --dry-run) dry_run=1 ;;
    *) die -c 2 "usage: tls.sh [apply|renew] [--dry-run]" ;;
  esac
done
[[ $DOMAIN =~ ^[A-Za-z0-9.-]+$ ]] || die -c 2 "DOMAIN '$DOMAIN' is not a host name"
case $TLS_ENABLED in true | false) ;; *) die -c 2 "TLS_ENABLED must be true or false, got '$TLS_ENABLED'" ;; esac

cert_dir=$LETSENCRYPT_DIR/live/$DOMAIN
# A real apply changes nginx: its outcome line is owed whatever ends it (lib.sh's EXIT trap).
if [ "$action" = apply ] && [ "$dry_run" = 0 ]; then audit tls started "apply requested" "domain=$DOMAIN"; fi

have_certificate() { [ -s "$cert_dir/fullchain.pem" ] && [ -s "$cert_dir/privkey.pem" ]; }

proxy_block() {
  cat <<EOF
    location / {
        proxy_pass $APP_UPSTREAM;
        proxy_set_header Host \$host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
    }
EOF
}

# site_config http|https: the nginx server blocks for DOMAIN.
site_config() {
  printf '# Managed by scripts/host/tls.sh for %s (%s): local edits are overwritten.\n' "$APP_NAME" "$1"
  cat <<EOF
server {
    listen 80;
    listen [::]:80;
    server_name $DOMAIN;

    location /.well-known/acme-challenge/ {
        root $WEBROOT;
    }
EOF
  if [ "$1" = http ]; then
    proxy_block
    echo "}"
    return
  fi
  cat <<EOF
    location / {
        return 301 https://\$host\$request_uri;
    }
}

server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name $DOMAIN;

    ssl_certificate $cert_dir/fullchain.pem;
    ssl_certificate_key $cert_dir/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    add_header Strict-Transport-Security "max-age=31536000" always;

EOF
  proxy_block
  echo "}"
}

# ensure_upstream: with blue/green, nginx -t refuses a site whose upstream is not defined. A host
# where no blue/green change ran yet has no include file: write one pointing at the colour the
# state file says serves, else at the in-place release (HEALTH_URL's port), which serves until
# the first switch. An existing file is never touched: switch.sh owns it.
ensure_upstream() {
  [ "$BLUE_GREEN" = true ] && [ ! -f "$NGINX_UPSTREAM_FILE" ] || return 0
  local serving port text hostport recorded
  recorded=$(upstream_recorded 2>/dev/null) || recorded=""
  read -r serving port <<<"$recorded"
  if [ -n "$serving" ]; then
    text=$(upstream_text "$serving" "${port:-$(colour_port "$serving")}")
  else
    hostport=${HEALTH_URL#*://}
    hostport=${hostport%%/*}
    [[ ${hostport##*:} =~ ^[0-9]+$ ]] || die "HEALTH_URL '$HEALTH_URL' names no port: cannot tell where the in-place release serves for $NGINX_UPSTREAM_FILE"
    serving="in-place release"
    text=$(upstream_text "$serving" "${hostport##*:}")
  fi
  if [ "$dry_run" = 1 ]; then
    log "dry run: would write $NGINX_UPSTREAM_FILE (upstream $NGINX_UPSTREAM_NAME on the $serving)"
    return 0
  fi
  mkdir -p "$(dirname "$NGINX_UPSTREAM_FILE")"
  printf '%s\n' "$text" >"$NGINX_UPSTREAM_FILE.tmp"
  mv "$NGINX_UPSTREAM_FILE.tmp" "$NGINX_UPSTREAM_FILE"
  log "wrote $NGINX_UPSTREAM_FILE: upstream $NGINX_UPSTREAM_NAME on the $serving (switch.sh rewrites it at each switch)"
}

# ensure_site http|https: write the site config when it differs, check it, reload nginx.
ensure_site() {
  local mode=$1 wanted backup
  ensure_upstream
  wanted=$(site_config "$mode")
  if [ -f "$NGINX_SITE_FILE" ] && [ "$(cat "$NGINX_SITE_FILE")" = "$wanted" ]; then
    log "nginx already serves $DOMAIN over ${mode^^} ($NGINX_SITE_FILE unchanged)"
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    log "dry run: would write $NGINX_SITE_FILE (${mode^^}), run '$NGINX_TEST_CMD' and '$NGINX_RELOAD_CMD':"
    printf '%s\n' "$wanted"
    return 0
  fi
  mkdir -p "$(dirname "$NGINX_SITE_FILE")"
  backup=""
  if [ -f "$NGINX_SITE_FILE" ]; then
    backup=$NGINX_SITE_FILE.previous
    cp -p "$NGINX_SITE_FILE" "$backup"
  fi
  printf '%s\n' "$wanted" >"$NGINX_SITE_FILE.tmp"
  mv "$NGINX_SITE_FILE.tmp" "$NGINX_SITE_FILE"
  if ! run_setting "$NGINX_TEST_CMD" >&2; then
    if [ -n "$backup" ]; then mv "$backup" "$NGINX_SITE_FILE"; else rm -f "$NGINX_SITE_FILE"; fi
    audit tls failed "nginx rejected the ${mode^^} configuration" "domain=$DOMAIN"
    die "nginx rejected the generated ${mode^^} configuration ('$NGINX_TEST_CMD' failed); the previous configuration is back in place"
  fi
  rm -f "$backup"
  run_setting "$NGINX_RELOAD_CMD" >&2 || {
    audit tls failed "nginx could not be reloaded after writing the ${mode^^} configuration" "domain=$DOMAIN"
    die "'$NGINX_RELOAD_CMD' failed after writing $NGINX_SITE_FILE"
  }
  audit tls ok "nginx switched to ${mode^^}" "domain=$DOMAIN"
  log "nginx now serves $DOMAIN over ${mode^^}"
}

install_renew_timer() {
  local unit="$APP_NAME-certbot-renew" changed=0 file text
  local service="[Unit]
Description=$APP_NAME: renew the TLS certificate of $DOMAIN and reload nginx
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=$HOST_SCRIPT_DIR/tls.sh renew"
  local timer="[Unit]
Description=$APP_NAME certificate renewal schedule

[Timer]
OnCalendar=$RENEW_SCHEDULE
RandomizedDelaySec=1h
Persistent=true
Unit=$unit.service

[Install]
WantedBy=timers.target"
  if [ "$dry_run" = 1 ]; then
    log "dry run: would install $SYSTEMD_DIR/$unit.service and $unit.timer (OnCalendar=$RENEW_SCHEDULE) and enable the timer"
    return 0
  fi
  mkdir -p "$SYSTEMD_DIR"
  for file in service timer; do
    if [ "$file" = service ]; then text=$service; else text=$timer; fi
    if [ "$(cat "$SYSTEMD_DIR/$unit.$file" 2>/dev/null || true)" != "$text" ]; then
      printf '%s\n' "$text" >"$SYSTEMD_DIR/$unit.$file.tmp"
      mv "$SYSTEMD_DIR/$unit.$file.tmp" "$SYSTEMD_DIR/$unit.$file"
      changed=1
    fi
  done
  if [ "$changed" = 1 ]; then run_setting "$SYSTEMCTL_CMD" daemon-reload; fi
  run_setting "$SYSTEMCTL_CMD" enable --now "$unit.timer"
  log "renew timer $unit.timer installed (OnCalendar=$RENEW_SCHEDULE)"
}

issue_certificate() {
  local -a args=(certonly --webroot -w "$WEBROOT" -d "$DOMAIN" --non-interactive --agree-tos --keep-until-expiring)
  if [ -n "$CERTBOT_EMAIL" ]; then args+=(--email "$CERTBOT_EMAIL"); else args+=(--register-unsafely-without-email); fi
  [ "$dry_run" = 1 ] && args+=(--dry-run)
  local how="webroot $WEBROOT"
  [ "$dry_run" = 0 ] || how+=", dry run against the staging CA"
  log "requesting a certificate for $DOMAIN ($how)"
  [ "$dry_run" = 1 ] || mkdir -p "$WEBROOT"
  if ! run_setting "$CERTBOT_CMD" "${args[@]}" >&2; then
    audit tls failed "certbot could not issue a certificate" "domain=$DOMAIN" "dryRun=$dry_run"
    die "certbot could not issue a certificate for $DOMAIN (see its output above); nginx keeps serving HTTP"
  fi
}

# keep_certificate: a certificate issued into OLD_LETSENCRYPT_DIR (the root volume) before it was
# kept on the data volume is copied there once (cp -a keeps certbot's live -> archive links).
keep_certificate() {
  if [ "$dry_run" = 1 ] || have_certificate || ! [ -s "$OLD_LETSENCRYPT_DIR/live/$DOMAIN/fullchain.pem" ]; then return 0; fi
  mkdir -p "$LETSENCRYPT_DIR"
  cp -a "$OLD_LETSENCRYPT_DIR/." "$LETSENCRYPT_DIR/" || die "could not copy the certificate in $OLD_LETSENCRYPT_DIR to $LETSENCRYPT_DIR on the data volume"
  log "moved the certificate of $DOMAIN from $OLD_LETSENCRYPT_DIR to $LETSENCRYPT_DIR (the data volume)"
}

fingerprint() { stat -L -c '%i %Y %s' "$cert_dir/fullchain.pem" 2>/dev/null || true; }

if [ "$action" = renew ]; then
  [ "$TLS_ENABLED" = true ] || die "TLS is off for this environment (TLS_ENABLED=false): nothing to renew"
  have_certificate || die "no certificate for $DOMAIN in $cert_dir: run 'tls.sh' to issue one first"
  before=$(fingerprint)
  renew_args=(renew --webroot -w "$WEBROOT" --non-interactive)
  [ "$dry_run" = 1 ] && renew_args+=(--dry-run)
  run_setting "$CERTBOT_CMD" "${renew_args[@]}" >&2 || {
    audit tls failed "certbot renew failed" "domain=$DOMAIN"
    die "certbot renew failed for $DOMAIN (see its output above)"
  }
  if [ "$(fingerprint)" != "$before" ] && [ "$dry_run" = 0 ]; then
    if ! run_setting "$NGINX_TEST_CMD" >&2 || ! run_setting "$NGINX_RELOAD_CMD" >&2; then
      audit tls failed "certificate renewed but nginx could not be reloaded" "domain=$DOMAIN"
      die "certificate renewed but nginx could not be reloaded"
    fi
    audit tls ok "certificate renewed, nginx reloaded" "domain=$DOMAIN"
    log "certificate for $DOMAIN renewed; nginx reloaded"
  else
    log "certificate for $DOMAIN not due for renewal (or dry run): nginx untouched"
  fi
  exit 0
fi

if [ "$TLS_ENABLED" = false ]; then
  log "TLS is off for this environment: serving $DOMAIN over HTTP only"
  ensure_site http
  [ "$dry_run" = 1 ] || record_applied tls
  exit 0
fi

keep_certificate

if ! have_certificate; then
  log "no certificate for $DOMAIN yet: serving HTTP while one is requested"
  ensure_site http
  issue_certificate
  if [ "$dry_run" = 1 ]; then
    log "dry run: certbot can issue a certificate for $DOMAIN; a real run would then switch nginx to HTTPS"
    install_renew_timer
    exit 0
  fi
  have_certificate || die "certbot reported success but $cert_dir holds no certificate; nginx keeps serving HTTP"
fi
ensure_site https
install_renew_timer
[ "$dry_run" = 1 ] || record_applied tls
