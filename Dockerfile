# otelcol-runtime-security image: a static collector binary on scratch.
#
#   make image                                        # scripts/build-image.sh (buildah or podman)
#   PLATFORMS=linux/amd64,linux/arm64 make image      # multi-arch manifest list
#
# The build stage runs on the build machine's platform and cross-compiles (GOOS/GOARCH from
# TARGETOS/TARGETARCH), so a multi-arch build needs no emulation.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM docker.io/library/golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
# Dependencies first: this layer is reused until go.mod/go.sum change. distribution/ is the
# ocb-generated module; it replaces the root module with ../, hence both go.mod files.
COPY go.mod go.sum ./
COPY distribution/go.mod distribution/go.sum ./distribution/
RUN cd distribution && go mod download
COPY . .
RUN cd distribution \
 && CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/otelcol-runtime-security . \
 && mkdir -p /out/etc/otelcol-runtime-security \
 && cp config.yaml /out/etc/otelcol-runtime-security/config.yaml

FROM scratch
LABEL org.opencontainers.image.title="otelcol-runtime-security" \
      org.opencontainers.image.description="OpenTelemetry Collector distribution for Tetragon runtime-security detections" \
      org.opencontainers.image.licenses="Apache-2.0"
# CA certificates for TLS to Loki, Prometheus and Tetragon's optional TLS endpoint.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/otelcol-runtime-security /otelcol-runtime-security
# Root-owned and read-only for the collector's user: the deployments mount their own.
COPY --from=build /out/etc/otelcol-runtime-security/config.yaml /etc/otelcol-runtime-security/config.yaml
USER 10001:10001
EXPOSE 8888 13133
ENTRYPOINT ["/otelcol-runtime-security"]
CMD ["--config=/etc/otelcol-runtime-security/config.yaml"]
