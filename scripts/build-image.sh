#!/usr/bin/env bash
# Builds the otelcol-runtime-security image from ./Dockerfile with buildah or podman.
#
#   IMAGE      image name            (default ghcr.io/otelcol-runtime-security/otelcol-runtime-security)
#   VERSION    tag                   (default: dist.version of builder-config.yaml)
#   PLATFORMS  e.g. linux/amd64,linux/arm64: build a manifest list for these platforms
#              (default: the build machine's platform only)
#   PUSH=1     push the image (or the manifest list and all its images) to IMAGE's registry
#   BUILDER    buildah or podman     (default: the first of the two that is installed)
#
#   FROM_BINARY=1  build the static binary here with the local Go toolchain and put it on scratch:
#              no base image to pull, so it works offline (one platform: GOARCH of this machine
#              unless PLATFORMS names exactly one)
#
# The default build pulls docker.io/library/golang and needs that registry (or a mirror
# configured in /etc/containers/registries.conf).
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
cd "$here/.."

IMAGE="${IMAGE:-ghcr.io/otelcol-runtime-security/otelcol-runtime-security}"
VERSION="${VERSION:-$(sed -n 's/^  version: *//p' builder-config.yaml)}"
VERSION="${VERSION:-dev}"
PLATFORMS="${PLATFORMS:-}"
PUSH="${PUSH:-0}"
ref="$IMAGE:$VERSION"

builder="${BUILDER:-}"
if [ -z "$builder" ]; then
  for b in buildah podman; do
    if command -v "$b" >/dev/null 2>&1; then builder="$b"; break; fi
  done
fi
if [ -z "$builder" ]; then
  {
    echo "make image: neither buildah nor podman is installed, so no image was built."
    echo "  Debian/Ubuntu: apt-get install buildah (or podman), then run 'make image' again."
    echo "  With Docker instead: docker buildx build --platform linux/amd64,linux/arm64 -t <image>:<tag> ."
  } >&2
  exit 1
fi
if ! command -v "$builder" >/dev/null 2>&1; then
  echo "make image: BUILDER=$builder is not installed" >&2
  exit 1
fi
case "$builder" in
  buildah | podman) ;;
  *) echo "make image: BUILDER must be buildah or podman, not $builder" >&2; exit 1 ;;
esac

if [ "${FROM_BINARY:-0}" = 1 ]; then
  # Same final stage as the Dockerfile, fed from a context prepared here.
  case "$PLATFORMS" in *,*) echo "make image: FROM_BINARY=1 builds one platform at a time" >&2; exit 1 ;; esac
  goarch="${PLATFORMS#linux/}"; goarch="${goarch:-$(go env GOARCH)}"
  ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
  (cd distribution && CGO_ENABLED=0 GOOS=linux GOARCH="$goarch" \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$ctx/otelcol-runtime-security" .)
  cp distribution/config.yaml "$ctx/config.yaml"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  sed -n '/^FROM scratch/,$p' Dockerfile | sed 's#COPY --from=build /etc/ssl/certs/ca-certificates.crt#COPY ca-certificates.crt#; s#COPY --from=build /out/otelcol-runtime-security#COPY otelcol-runtime-security#; s#COPY --from=build /out/etc/otelcol-runtime-security/config.yaml#COPY config.yaml#' >"$ctx/Containerfile"
  echo "building $ref (linux/$goarch) from a locally built binary with $builder"
  isolation=(); [ "$builder" = buildah ] && isolation=(--isolation chroot)
  "$builder" build "${isolation[@]}" --platform "linux/$goarch" -t "$ref" -f "$ctx/Containerfile" "$ctx"
  if [ "$PUSH" = 1 ]; then
    "$builder" push "$ref" "docker://$ref"
  fi
elif [ -n "$PLATFORMS" ]; then
  # A manifest list: one image per platform under one name. Start from an empty one, or
  # `build --manifest` would append to the list of a previous run.
  "$builder" manifest rm "$ref" >/dev/null 2>&1 || true
  echo "building $ref for $PLATFORMS with $builder"
  "$builder" build --platform "$PLATFORMS" --manifest "$ref" -f Dockerfile .
  if [ "$PUSH" = 1 ]; then
    "$builder" manifest push --all "$ref" "docker://$ref"
  fi
else
  echo "building $ref with $builder"
  "$builder" build -t "$ref" -f Dockerfile .
  if [ "$PUSH" = 1 ]; then
    "$builder" push "$ref" "docker://$ref"
  fi
fi
echo "built $ref"
